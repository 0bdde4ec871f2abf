"""The simulated production: a real HTTP server implementing the monotui deploy API."""
