//! Simulated kubelets: register nodes, renew leases, run pods without containers on realistic timings, report status and IPs, terminate gracefully.
