"""End-to-end tests: the ad network, a real x402 facilitator, resource server and agent."""
