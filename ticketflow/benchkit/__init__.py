"""The pieces of `ticketflow bench`: the bare Temporal baseline, the stack, the load and the table.

`ticketflow.bench` composes them; `stats` and `report` are pure and unit-tested.
"""
