"""The runtime: inbox writer and worker, outbox dispatcher, their doorbell, holding for a window."""
