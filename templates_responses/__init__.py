"""Pure text work for replies: which language a customer writes in, and the wording of the
automatic acknowledgement (later: the reply library, suggestions and checks).

Nothing here performs I/O, reads a clock or imports an event loop: times come in as values,
text goes out as text.
"""

from templates_responses.acknowledgement import Acknowledgement, acknowledgement
from templates_responses.language import LANGUAGES, guess_language

__all__ = ["LANGUAGES", "Acknowledgement", "acknowledgement", "guess_language"]
