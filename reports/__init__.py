"""The therapist's weekly picture: pure rendering from analytics data to PNG bytes.

A package of its own because it is neither conversation, storage nor scheduling: it
takes plain data (core.analytics) and returns images and captions.
"""
