"""The contact-center core: model, integrated queue, history, store, and the composition root."""
