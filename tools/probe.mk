# the hand-over probe
