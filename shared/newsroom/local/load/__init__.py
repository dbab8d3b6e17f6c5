"""A bounded load run on loopback (``python -m newsroom.local.load``); see `drive`."""
