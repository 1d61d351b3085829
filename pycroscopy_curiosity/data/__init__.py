"""Data layer: NSID-HDF5 files and sidpy Datasets in, learner-ready arrays out."""
