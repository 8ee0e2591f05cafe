"""Click-to-call: a voice call from the customer's browser to an agent's desk over WebRTC."""
