"""The call-me channel: a customer asks to be called back, as soon as possible or at a booked hour."""
