"""Temporal workflow definitions. Workflow code imports only temporalio and the domain."""
