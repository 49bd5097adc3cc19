// SIOProxy
