// SIOInspect
