"""Music, notebook 09: Bach chorales learned by the course's GPT.

- ``melodies``: chorales from music21's corpus as token sequences, and back to notes.
- ``audio``: a melody as sound (a WAV array) and as a MIDI file.
- ``metrics``: how close generated melodies are to real ones (pitch and interval
  statistics, copying checks).
"""
