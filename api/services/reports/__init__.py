"""The reports: dashboards and personal stats, desk reports, exports and scheduled mailings."""
