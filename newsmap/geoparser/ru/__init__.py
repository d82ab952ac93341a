"""Russian: the recogniser for Russian news texts (issue 22). See README.md in this folder.

Imported by `parse.recognize` on the first Russian article only, so English-only use never loads
pymorphy2. The resolver, the facility placer and the rows are the English pipeline's.
"""

from newsmap.geoparser.ru.recognition import RussianRecognizer

__all__ = ["RussianRecognizer"]
