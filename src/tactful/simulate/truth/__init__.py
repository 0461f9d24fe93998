"""The truth the engine never sees and the answers it gets: the truth tables and their README,
whether a message is relevant, the hidden response model, and calibration against public
figures."""
