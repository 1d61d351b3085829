"""napari integration of pycroscopy-curiosity.

This package holds only the translation between the library and napari:
nothing in ``pycroscopy_curiosity`` imports it or Qt.
"""
