"""Networks built from atomai.nets blocks, and lean training loops.

Nothing here knows about acquisition functions or microscopes. Importing this
package imports torch and atomai (several seconds): the command line and the
napari plugin import it only when a run starts.
"""
