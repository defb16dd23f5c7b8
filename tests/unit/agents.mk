# In-process tests of the agents' logic (ha/, fa/, mn/ libraries).
