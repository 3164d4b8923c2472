"""What every request passes: command declarations, router, access policy, live cards, surfaces."""
