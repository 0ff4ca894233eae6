"""The wrappers patched into the SDK, by what they wrap; `_patches` says where each one goes."""
