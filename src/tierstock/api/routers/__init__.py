"""One router per API resource; api/main.py only includes them."""
