# %% [markdown]
# ## 2. Entertainment: a melody from Bach's chorales
# > "Entertainment: Revolutionizes content creation in movies and games." - *Gen AI vs
# > LLM*
#
# The article also names a music model: "AI models such as OpenAI's Jukebox can compose
# music in various styles." This part builds the smallest honest version of that claim:
# the project's own GPT (`keras_gen.transformer`, the model of notebooks 04-08) learns
# the soprano melodies of Bach's four-part chorales, then writes new ones. We look at
# them as a piano roll, save them as MIDI and MusicXML, listen to them, and measure them
# against chorales the model never saw.
#
# **The data.** `music21` (BSD-3-Clause) ships encodings of the 371 chorales
# (public-domain music). `tools/build_chorales.py` took each soprano part, merged tied
# notes, transposed it to C major or A minor (so the model sees one key instead of
# twelve) and stored the result in `data/chorales/` with a pinned SHA-256. It kept one
# version of each tune (Bach harmonised some hymn tunes several times, with small
# changes) and skipped pieces with a note length that has no token. We split **by
# piece**: the held-out chorales are whole pieces.

# %%
import os
import tempfile

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Audio, display

from keras_gen import music
from keras_gen import music_metrics as mm
from keras_gen.env import fast_mode, pick
from keras_gen.music_audio import (
    melody_to_audio,
    plot_piano_roll,
    write_melody,
    write_wav,
)
from keras_gen.text import make_next_token_dataset
from keras_gen.training import compile_for_pretraining, make_optimizer
from keras_gen.transformer import build_gpt

SEED = 0
TRAIN_STEPS = pick(full=500, fast=25)  # batches of 16 windows of 128 tokens
NUM_SAMPLES = pick(full=100, fast=12)  # melodies sampled for the measurements
print("fast mode" if fast_mode() else "full mode", TRAIN_STEPS, "steps")
_ = keras.ops.zeros(1)  # start the backend now: its start-up logs land here

# %% [markdown]
# ### Melodies as tokens
# A note becomes two tokens: its pitch (`p60` is middle C, `rest` a rest) and its length
# in quarter notes (`d1` a crotchet, `d0.5` a quaver). Each melody sits between `<bos>`
# and `<eos>`, and the training melodies are joined into one stream, like the text of
# notebook 05. The cell below prints the data's size and the first notes of a chorale as
# tokens; decoding the tokens gives back exactly the same melody.

# %%
# NBVAL_CHECK_OUTPUT
chorales = music.load_chorales()  # checks the file's SHA-256 first
train, held_out = music.split_chorales(chorales, validation_fraction=0.1, seed=SEED)
train_melodies = [c.melody for c in train]
held_melodies = [c.melody for c in held_out]
train_ids = music.melodies_to_ids(train_melodies)  # (tokens,)
held_ids = music.melodies_to_ids(held_melodies)
print(f"{len(chorales)} chorales: {len(train)} for training "
      f"({len(train_ids):,} tokens), {len(held_out)} held out "
      f"({len(held_ids):,} tokens); vocabulary {len(music.VOCABULARY)} tokens")
first = chorales[0]
print(f"{first.name}, originally in {first.key}, moved {first.shift:+d} semitones:")
print(" ".join(music.ids_to_tokens(music.melody_to_ids(first.melody))[:17]), "...")
print("round trip identical:",
      music.ids_to_melody(music.melody_to_ids(first.melody)) == first.melody)

# %% [markdown]
# ### The model: the project's GPT, small
# The same `build_gpt` as notebook 05, sized for about 30,000 tokens of melody: 2
# blocks, 4 heads, 96 wide, and 128 tokens of context, enough for most of a chorale
# (about 100 tokens). `make_next_token_dataset` cuts the stream into windows and `fit()`
# trains with the project's optimiser recipe (AdamW, warm-up, cosine decay).

# %%
keras.utils.set_random_seed(SEED)
config = music.MELODY_GPT
model = build_gpt(**vars(config))
compile_for_pretraining(
    model,
    make_optimizer(2e-3, total_steps=TRAIN_STEPS, min_learning_rate=2e-4,
                   warmup_steps=max(1, TRAIN_STEPS // 10)),
    jit_compile=pick(full=True, fast=False),  # XLA's compile pays off in long runs
)
windows = make_next_token_dataset(train_ids, config.context_length, batch_size=16,
                                  seed=SEED, repeat=True)
history = model.fit(windows, steps_per_epoch=TRAIN_STEPS, epochs=1, verbose=0)
print(f"{model.count_params():,} parameters; training loss averaged over the "
      f"{TRAIN_STEPS} steps: {history.history['loss'][-1]:.3f} nats/token")

# %% [markdown]
# ### Does it beat counting? Held-out loss against a bigram baseline
# A bigram model predicts the next token from the current one alone, with counts from
# the training melodies (add-one smoothing, so no token gets probability zero). Both
# models are scored on exactly the same held-out tokens (every window of 128). Lower is
# better; the cell below prints both, in nats per token.

# %%
x_held, y_held = mm.next_token_windows(held_ids, config.context_length)  # (N, 128) each
gpt_loss = mm.model_nll(model, x_held, y_held)
bigram = mm.BigramModel(train_ids, alpha=1.0)
bigram_loss = bigram.nll(x_held, y_held)
print(f"held-out loss on {y_held.size:,} tokens: GPT {gpt_loss:.3f}, "
      f"bigram {bigram_loss:.3f} nats/token")
print(f"per-token perplexity: GPT {np.exp(gpt_loss):.2f}, "
      f"bigram {np.exp(bigram_loss):.2f}")

# %% [markdown]
# ### New melodies
# Sampling goes through `keras_gen.generation.generate_ids`, the decoding path of
# notebook 06: start from `<bos>`, draw one token at a time (temperature 1), stop at
# `<eos>`. A sample can break the pitch-duration pattern; such tokens are skipped and
# counted. The piano roll shows the first sample above a real held-out chorale: time
# runs across, one bar per note, higher notes higher.

# %%
samples, ill_formed = music.sample_melodies(model, NUM_SAMPLES, seed=SEED)
print(f"{len(samples)} of {NUM_SAMPLES} samples hold notes; {ill_formed} ill-formed "
      f"tokens skipped; mean length {np.mean([len(m) for m in samples]):.0f} notes "
      f"(held-out chorales: {np.mean([len(m) for m in held_melodies]):.0f})")
fig, axes = plt.subplots(2, 1, figsize=(9, 5), dpi=100)
plot_piano_roll(samples[0], ax=axes[0], title="A sampled melody", color="tab:orange")
plot_piano_roll(held_melodies[0], ax=axes[1],
                title=f"A real held-out chorale ({held_out[0].name})")
low = min(ax.get_ylim()[0] for ax in axes)
high = max(ax.get_ylim()[1] for ax in axes)
for ax in axes:
    ax.set_ylim(low, high)  # the same pitch scale for both
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Files a musician can open, and sound
# `music21` writes the sample as MIDI (for any audio workstation) and MusicXML (for a
# notation program such as MuseScore). For listening in the notebook, `melody_to_audio`
# synthesises the notes with NumPy, each a tone with a few harmonics under a decaying
# envelope (no sound font), and `write_wav` stores a standard 16-bit WAV file.

# %%
out_dir = os.path.join(tempfile.gettempdir(), "keras_gen_nb09_music")
os.makedirs(out_dir, exist_ok=True)
for name in ("sample.mid", "sample.musicxml"):
    write_melody(samples[0], os.path.join(out_dir, name), tempo_bpm=90)
sound, rate = melody_to_audio(samples[0], tempo_bpm=90, sample_rate=11025)
write_wav(os.path.join(out_dir, "sample.wav"), sound, rate)
print(f"wrote {sorted(os.listdir(out_dir))} to {out_dir}; "
      f"{len(sound) / rate:.1f} s of audio at {rate} Hz")
# The player gets the first 24 notes at 8 kHz, which keeps the notebook small.
excerpt, excerpt_rate = melody_to_audio(samples[0][:24], tempo_bpm=90, sample_rate=8000)
display(Audio(excerpt, rate=excerpt_rate))

# %% [markdown]
# ### Measured on held-out chorales
# Three checks compare the samples with the held-out chorales, which stand for "what
# Bach wrote" and which the model never saw:
#
# * **In key.** The share of notes in C major / A natural minor. Real minor chorales
#   raise G to G sharp (the leading tone), so real melodies score below 1 too: compare,
#   don't expect 1.
# * **Register and motion.** How often each pitch occurs, and how often each melodic
#   interval (the step from one note to the next, in semitones) occurs, plotted for
#   samples and real melodies side by side. The total variation distance (0: same shape,
#   1: no overlap) summarises each; as a reference, the training chorales' distance from
#   the held-out ones shows how much two sets of real chorales differ.

# %%
print(f"in key: samples {mm.in_key_share(samples):.3f}, "
      f"held-out chorales {mm.in_key_share(held_melodies):.3f}")
histograms = {"pitch": mm.pitch_histogram, "interval": mm.interval_histogram}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), dpi=100)
for ax, (name, histogram) in zip(axes, histograms.items(), strict=True):
    real, fake = histogram(held_melodies), histogram(samples)
    if name == "pitch":
        bins = np.arange(music.PITCH_LOW, music.PITCH_HIGH + 1)
        ax.set_xlim(55, 86)
    else:
        bins = np.arange(-12, 13)
    ax.bar(bins - 0.2, real, width=0.4, label="held-out chorales")
    ax.bar(bins + 0.2, fake, width=0.4, label="samples")
    ax.set_xlabel("MIDI pitch" if name == "pitch" else "interval (semitones)")
    ax.set_ylabel("share of notes" if name == "pitch" else "share of intervals")
    reference = mm.total_variation(histogram(train_melodies), real)
    distance = mm.total_variation(fake, real)
    ax.set_title(f"{name}: distance {distance:.3f} (training chorales {reference:.3f})")
    ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# In the interval histogram, look at the tall bars at small steps (one or two semitones
# up or down) and the thin tail of leaps: chorale melodies move mostly by step, and the
# titles print how close the samples come to that shape.
#
# * **Copying.** A generator can look good by reciting its training data. For each
#   melody we find the longest run of consecutive notes (pitch and length) that occurs
#   verbatim in a training chorale. Held-out real chorales are the reference: hymn tunes
#   share stock phrases (cadences, runs up and down the scale), so some overlap is
#   normal. (The data holds one version of each tune: a tune Bach set twice cannot sit
#   on both sides of the split.)

# %%
index = mm.CopyIndex(train_melodies)
copied_samples = [index.longest_run(m) for m in samples]
copied_real = [index.longest_run(m) for m in held_melodies]
for name, runs in (("samples", copied_samples), ("held-out chorales", copied_real)):
    print(f"{name:18s} longest run found in training: median {np.median(runs):.0f} "
          f"notes, max {max(runs)}")

# %% [markdown]
# ### What this does, and what real systems do
# The cells above print the evidence: the GPT's held-out loss against the bigram, the
# share of notes in key, the two histogram distances, and the copying check.
#
# * **What it does.** A 0.24 M-parameter GPT, trained for a few minutes on a CPU, learns
#   enough of the chorales' grammar to write note sequences that stay in key and move
#   mostly by step, like the real melodies. It composes a single line; its output is
#   symbolic (notes), turned into sound by a simple synthesiser.
# * **What it does not do.** No harmony (the other three voices), no bar lines or metre
#   beyond what the note lengths imply, no phrase structure across a whole piece, no
#   lyrics, no performance. Nobody listened to these samples in a test, so "sounds like
#   Bach" is not measured here; the statistics above are necessary, not sufficient.
# * **Real systems.** DeepBach (Hadjeres, Pachet and Nielsen, 2017) models all four
#   voices of the chorales and samples them with pseudo-Gibbs sampling, so a user can
#   fix notes, rhythms or cadences and let the model fill in the rest, inside the
#   MuseScore editor. BachBot (Liang et al., ISMIR 2017), an LSTM on the chorales, was
#   put to a discrimination test with 2,336 participants, who told its chorales from
#   Bach's only 1% better than chance. Jukebox (Dhariwal et al., 2020), the system the
#   article names, works on raw audio instead of notes: a 4-minute song at CD quality
#   has over 10 million samples, so a three-level VQ-VAE first compresses 44 kHz audio
#   by 8x, 32x and 128x into codes (2,048 per level) that Transformers then model,
#   trained on a data set of 1.2 million songs.

# %% [markdown]
# ### Exercises
# **Exercise 9.3 (a better counting baseline).** A trigram model predicts the next token
# from the two before it. Write it with add-`alpha` smoothing, score it on the same
# held-out windows (`x_held`, `y_held`) for `alpha` in 1, 0.1 and 0.01, and compare it
# with the bigram and the GPT. Why does the trigram gain so much on *this* token layout?
#
# **Exercise 9.4 (temperature).** Sample 50 melodies at temperatures 0.7, 1.0 and 1.3
# (`music.sample_melodies(model, 50, temperature=...)`) and tabulate the share of notes
# in key, the interval histogram's distance from the held-out chorales, and the mean
# length. Listen to one sample of each. What does a low temperature buy, and what does
# it cost?
#
# Solutions: `solutions/nb09_music.py` (`music_trigram_nll`, `music_temperature_sweep`).
