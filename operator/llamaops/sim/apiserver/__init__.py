"""The API emulator: an aiohttp server speaking the Kubernetes REST API."""
