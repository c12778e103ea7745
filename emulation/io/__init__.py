"""Files in and out: Keras models (Keras 3 and legacy Keras 2), input data, files written
atomically, and hls4ml's printed output."""
