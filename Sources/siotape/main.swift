print("siotape")
