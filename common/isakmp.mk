# isakmp: sources, unit tests and fuzz targets (see the header of each file)
