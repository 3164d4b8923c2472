"""What every request passes: command declarations, router, access policy, live cards, the surface protocol."""
