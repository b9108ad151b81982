"""The ``ledgerlight`` command: the composition root that gathers each area's sub-commands."""
