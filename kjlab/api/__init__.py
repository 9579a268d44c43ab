"""The cluster's API as data: clients and the one create path (kube), the one resumable watch (watch),
waits on it (wait), and pure readers of API objects (readers, printers, policy)."""
