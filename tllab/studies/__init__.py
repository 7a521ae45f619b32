"""Chapter studies: the experiments of one chapter each, returning plain results.

Import one chapter's module, e.g. ``from tllab.studies import distribution_shift``; nothing
here draws (figures and explorers live in :mod:`tllab.viz`).
"""
