"""The requester portal: home, sign-up, new requests, a request's page."""
