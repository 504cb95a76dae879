"""The cluster around the API emulator: GPU nodes, scheduler, kubelet, endpoints, proxy."""
