// SIOCapture
