import os
import shutil

import keras
import numpy as np
import pytest

from keras_gen import data, metrics


def test_mean_pairwise_distance_hand_computed():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    # distances: 5, 4, 3
    assert metrics.mean_pairwise_distance(points) == pytest.approx(4.0)


def test_identical_images_have_zero_diversity():
    real = np.random.default_rng(0).uniform(-1, 1, (40, 8, 8, 1))
    assert metrics.diversity_ratio(np.repeat(real[:1], 40, 0), real) == pytest.approx(
        0.0, abs=1e-6
    )
    assert metrics.diversity_ratio(real, real) == pytest.approx(1.0)


def test_pooling_ignores_pixel_speckle_around_one_shape():
    rng = np.random.default_rng(0)
    # "Real" images with structure at a coarse scale: random 7x7 blocks, upsampled.
    real = np.kron(rng.uniform(-1, 1, (60, 7, 7, 1)), np.ones((1, 4, 4, 1)))
    one_shape = np.repeat(real[:1], 60, 0)
    speckled = np.clip(one_shape + rng.normal(0, 0.5, one_shape.shape), -1, 1)
    assert metrics.diversity_ratio(speckled, real, pool=1) > 0.5
    assert metrics.diversity_ratio(speckled, real, pool=4) < 0.35


def test_average_pool_shapes_and_values():
    images = np.arange(16, dtype=float).reshape(1, 4, 4, 1)
    pooled = metrics.average_pool(images, 2)
    np.testing.assert_allclose(pooled[0, :, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    with pytest.raises(ValueError, match="divisible by pool=3"):
        metrics.average_pool(images, 3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 2 images"):
        metrics.mean_pairwise_distance(np.zeros((1, 4)))
    with pytest.raises(ValueError, match="same shape"):
        metrics.diversity_ratio(np.zeros((5, 8, 8, 1)), np.zeros((5, 4, 4, 1)))
    with pytest.raises(ValueError, match=r"\(n, h, w, c\)"):
        metrics.diversity_ratio(np.zeros((5, 8, 8)), np.zeros((5, 8, 8)))


# --- Fréchet distance, floor and class coverage ------------------------------


def test_feature_frechet_distance_by_hand():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3000, 3))
    assert metrics.feature_frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # Same covariance, means 2 apart: the distance is the squared shift.
    assert metrics.feature_frechet_distance(a, a + [2.0, 0, 0]) == pytest.approx(4.0)
    # Means equal, one set scaled by 3: tr(S + 9S - 2*3S) = 4 tr(S), tr(S) ~ 3.
    scaled = metrics.feature_frechet_distance(a, 3 * (a - a.mean(0)) + a.mean(0))
    assert scaled == pytest.approx(4 * np.trace(np.cov(a, rowvar=False)), rel=1e-6)


@pytest.fixture(scope="module")
def real_images(fashion_test):
    return fashion_test[0][:600]


def test_identical_sets_score_about_zero(real_images):
    assert metrics.frechet_distance(real_images, real_images) == pytest.approx(
        0.0, abs=1e-6
    )


def test_distance_grows_with_noise(real_images):
    rng = np.random.default_rng(0)
    reference, noisy = real_images[:300], real_images[300:]
    scores = [
        metrics.frechet_distance(
            np.clip(noisy + rng.normal(0, sigma, noisy.shape), -1, 1), reference
        )
        for sigma in (0.0, 0.1, 0.25, 0.5, 1.0)
    ]
    assert all(b > a for a, b in zip(scores, scores[1:], strict=False)), scores


def test_collapsed_generator_covers_fewer_classes(real_images):
    real = metrics.class_coverage(real_images)
    collapsed = metrics.class_coverage(np.repeat(real_images[:1], 300, 0))
    assert real["entropy"] > 2.0 and real["classes_seen"] == 10
    assert collapsed["entropy"] == pytest.approx(0.0, abs=1e-12)
    assert collapsed["classes_seen"] == 1
    assert real["max_entropy"] == pytest.approx(np.log(10))
    assert real["histogram"].sum() == pytest.approx(1.0)


def test_image_quality_reports_the_floor(real_images):
    train = data.load_images("fashion_mnist", "train")[0][:300]
    real = metrics.image_quality(train, seed=1)
    collapsed = metrics.image_quality(np.repeat(real_images[:1], 300, 0), seed=1)
    assert real.floor > 0 and real.n == 300
    # Real training images are the floor's own kind of sample: ratio near 1.
    assert 0.5 < real.ratio < 2.0
    assert collapsed.ratio > 10 * real.ratio
    assert "floor" in str(collapsed)
    # The second judge's view of the same sets: many classes, then one.
    assert real.coverage_second["entropy"] > 2.0
    assert collapsed.coverage_second["classes_seen"] == 1
    assert "second judge" in str(real)
    alone = metrics.image_quality(train, seed=1, second_judge=False)
    assert alone.coverage_second is None and alone.frechet == real.frechet
    assert metrics.real_data_floor(300, seed=1) == pytest.approx(real.floor, rel=1e-6)


def test_classifier_is_accurate_and_cached(fashion_test):
    from keras_gen import classifier

    model = classifier.load_classifier()
    # One pass over the 10,000 test images (kept for the second judge's test);
    # the loaded model's own predictions agree on 1,000 of them.
    accuracy = classifier.judge_accuracy()
    logits = model.predict(fashion_test[0][:1000], batch_size=1000, verbose=0)
    np.testing.assert_array_equal(
        np.argmax(logits, -1),
        classifier._test_predictions("fashion_mnist", "first")[:1000],
    )
    assert accuracy >= 0.90
    assert classifier.load_classifier() is model  # one copy per process
    # The shipped judge, re-measured: the accuracy its card states.
    from keras_gen import model_folder

    card = model_folder.load_folder(classifier.shipped_folder(), tokenizer=False).card
    assert card["test_accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert card["command"].startswith("make pretrained  # = python tools/train_judges")


def test_second_judge_is_accurate_independent_and_cached(fashion_test):
    from keras_gen import classifier

    first = classifier.load_classifier()
    second = classifier.load_classifier(judge="second")
    # Nothing shared but the data: its own file, architecture and weights.
    folder = classifier.shipped_folder(judge="second")
    assert folder != classifier.shipped_folder()
    assert sorted(os.listdir(folder)) == ["card.json", "model.keras"]
    assert second is not first and second.name == "second_judge"
    assert second.count_params() != first.count_params()
    assert {"flip", "shift", "block_1_add"} <= {layer.name for layer in second.layers}
    assert classifier.load_classifier(judge="second") is second  # one per process
    accuracy = {j: classifier.judge_accuracy(judge=j) for j in classifier.JUDGES}
    print(f"judges on the real test images: {accuracy}")
    # One pass of each judge over the 10,000 test images, in judge_accuracy,
    # which keeps its predictions. On 1,000 of them, the loaded model's own
    # predictions and the first judge's through the features_and_predictions
    # the metrics use give the same classes as those passes.
    first_predicted = classifier._test_predictions("fashion_mnist", "first")
    second_predicted = classifier._test_predictions("fashion_mnist", "second")
    for predicted, judge in ((first_predicted, "first"), (second_predicted, "second")):
        assert np.mean(predicted == fashion_test[1]) == accuracy[judge]
    some = fashion_test[0][:1000]
    logits = second.predict(some, batch_size=1000, verbose=0)
    np.testing.assert_array_equal(np.argmax(logits, -1), second_predicted[:1000])
    np.testing.assert_array_equal(
        classifier.features_and_predictions(some)[1], first_predicted[:1000]
    )
    assert accuracy["second"] >= classifier.SECOND_JUDGE_MIN_TEST_ACCURACY == 0.88
    from keras_gen import model_folder

    card = model_folder.load_folder(folder, tokenizer=False).card
    assert card["test_accuracy"] == pytest.approx(accuracy["second"], abs=1e-4)
    assert abs(accuracy["second"] - accuracy["first"]) <= 0.03
    # Two judges that agree on real garments, not two copies of one judge.
    assert 0.88 <= np.mean(first_predicted == second_predicted) < 0.995


def test_unknown_judge_is_refused():
    from keras_gen import classifier

    with pytest.raises(ValueError, match=r"judge.*'third'"):
        classifier.classifier_path(judge="third")
    with pytest.raises(ValueError, match=r"judge.*'third'"):
        classifier.load_classifier(judge="third")


def test_classifier_cache_is_a_model_folder_and_detects_changes(tmp_path, monkeypatch):
    from keras_gen import classifier, model_folder

    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))
    folder = classifier.classifier_folder("mnist")
    assert classifier.classifier_path("mnist") == folder / "model.keras"
    assert folder.parent == tmp_path / "classifiers"
    tiny = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    classifier._save(tiny, folder, {"dataset": "mnist"})
    assert sorted(os.listdir(folder)) == ["card.json", "model.keras"]
    assert sorted(os.listdir(folder.parent)) == ["mnist_classifier"]  # swapped in
    assert classifier._load_cached("mnist") is not None
    path = folder / "model.keras"
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.warns(UserWarning, match="model.keras is damaged or was changed"):
        assert classifier._load_cached("mnist") is None
    assert model_folder.is_complete(folder)


@pytest.mark.parametrize(
    "judge, old_name", [("first", "mnist_classifier"), ("second", "mnist_second_judge")]
)
def test_classifier_cache_of_the_old_layout_is_still_read(
    tmp_path, monkeypatch, judge, old_name
):
    from keras_gen import classifier, model_folder
    from keras_gen._files import sha256_file

    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))
    old = tmp_path / "classifiers" / f"{old_name}.keras"
    old.parent.mkdir()
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(old)
    sidecar = old.with_name(old.name + ".sha256")
    sidecar.write_text(f"{sha256_file(old)}  {old.name}\n")
    assert classifier._checksum_ok(old)
    assert classifier._load_cached("mnist", judge) is not None
    migrated = classifier.classifier_folder("mnist", judge)
    assert migrated.name == old_name  # each judge its own folder, one mechanism
    assert sorted(os.listdir(migrated)) == ["card.json", "model.keras"]
    card = model_folder.load_folder(migrated, tokenizer=False).card
    assert card["judge"] == judge and card["from"] == old.name
    assert sorted(os.listdir(old.parent)) == [old_name, old.name, sidecar.name]
    shutil.rmtree(migrated)  # now damage the old file alone
    old.write_bytes(old.read_bytes() + b"x")
    assert not classifier._checksum_ok(old)
    with pytest.warns(UserWarning, match="does not match its .sha256"):
        assert classifier._load_cached("mnist", judge) is None
    sidecar.unlink()
    assert not classifier._checksum_ok(old)


def test_the_shipped_judge_comes_before_the_cache_and_a_damaged_one_is_named(
    monkeypatch, tmp_path
):
    from keras_gen import classifier, model_folder

    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))
    monkeypatch.setattr(classifier, "_LOADED", {})
    cached = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    classifier._save(cached, classifier.classifier_folder(), {"note": "cached"})
    loaded = classifier.load_classifier()  # the shipped judge, not the cache
    assert loaded.name == "quality_classifier" and loaded.count_params() == 220234
    # A damaged shipped folder: a warning that names it, then the cache.
    copy = tmp_path / "shipped"
    shutil.copytree(classifier.shipped_folder(), copy)
    with open(copy / model_folder.MODEL_FILE, "ab") as handle:
        handle.write(b"x")
    monkeypatch.setattr(classifier, "shipped_folder", lambda dataset, judge: copy)
    monkeypatch.setattr(classifier, "_LOADED", {})
    with pytest.warns(UserWarning, match=r"shipped first judge in .*shipped.*damaged"):
        fallback = classifier.load_classifier()
    assert fallback.count_params() == cached.count_params()


def test_mnist_classifier_when_present():
    from keras_gen import classifier

    try:
        data.find_data("mnist", download=False)
    except data.DataNotFoundError:
        pytest.skip("MNIST is not on disk")
    assert classifier.load_classifier("mnist").get_layer("features").units == 64


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((200, 28, 28)), r"shape \(n, 28, 28, 1\).*images\[\.\.\., None\]"),
        (np.zeros((200, 32, 32, 3)), r"Received: generated.shape=\(200, 32, 32, 3\)"),
        (np.zeros((100, 28, 28, 1)) - 1, "at least 128 generated for a stable"),
        (np.full((200, 28, 28, 1), np.nan), "finite generated"),
        (np.linspace(0, 255, 200 * 784).reshape(200, 28, 28, 1), r"x / 127.5 - 1"),
        (
            np.linspace(0, 1, 200 * 784).reshape(200, 28, 28, 1),
            r"looks like the \[0, 1\]",
        ),
        (np.linspace(-2, 1, 200 * 784).reshape(200, 28, 28, 1), r"in \[-2, 1\]"),
    ],
)
def test_quality_metrics_refuse_bad_images(images, message):
    with pytest.raises(ValueError, match=message):
        metrics.frechet_distance(images, np.zeros((200, 28, 28, 1)) - 1)
    if "128" not in message:
        with pytest.raises(ValueError):
            metrics.class_coverage(images)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match=r"features_a.shape=\(5, 3\), features_b"):
        metrics.feature_frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2 feature vectors"):
        metrics.feature_frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"Expected n >= 128.*Received: n=50"):
        metrics.real_data_floor(50)
    with pytest.raises(ValueError, match="at least 10 images"):
        metrics.class_coverage(np.zeros((5, 28, 28, 1)) - 1)


def test_retrain_replaces_the_model_the_metrics_use(monkeypatch, tmp_path):
    from keras_gen import classifier

    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))
    monkeypatch.setattr(classifier, "_LOADED", {})
    seeds = iter(range(10))

    def fake_training(dataset):  # a fresh, untrained model: no data needed
        keras.utils.set_random_seed(next(seeds))
        return classifier.build_classifier(), 0.99

    monkeypatch.setattr(classifier, "train_quality_classifier", fake_training)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1))
    first = classifier.load_classifier(retrain=True)
    old_features, _ = classifier.features_and_predictions(images)
    second = classifier.load_classifier(retrain=True)
    assert second is not first and classifier.load_classifier() is second
    features, _ = classifier.features_and_predictions(images)
    features_model = keras.Model(second.inputs, second.get_layer("features").output)
    expected = features_model.predict(images.astype("float32"), verbose=0)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(features, old_features)


def test_retraining_one_judge_keeps_the_other(monkeypatch, tmp_path):
    from keras_gen import classifier

    monkeypatch.setenv("KERAS_GEN_CACHE", str(tmp_path))
    monkeypatch.setattr(classifier, "_LOADED", {})
    monkeypatch.setattr(classifier, "SHIPPED_FOLDERS", {})  # a copy without them

    def fake(build):
        def training(dataset):  # a fresh, untrained model: no data needed
            keras.utils.set_random_seed(0)
            return build(), 0.99

        return training

    monkeypatch.setattr(
        classifier, "train_quality_classifier", fake(classifier.build_classifier)
    )
    monkeypatch.setattr(
        classifier, "train_second_judge", fake(classifier.build_second_judge)
    )
    images = np.random.default_rng(0).uniform(-1, 1, (4, 28, 28, 1))
    first = classifier.load_classifier()
    second = classifier.load_classifier(judge="second")
    assert second.name == "second_judge" and first.name == "quality_classifier"
    assert sorted(p.name for p in (tmp_path / "classifiers").iterdir()) == [
        "fashion_mnist_classifier",
        "fashion_mnist_second_judge",
    ]
    features, predicted = classifier.features_and_predictions(images, judge="second")
    assert features.shape == (4, 64) and predicted.shape == (4,)
    again = classifier.load_classifier(judge="second", retrain=True)
    assert again is not second and classifier.load_classifier() is first
    # A fresh process loads each judge from its own file.
    monkeypatch.setattr(classifier, "_LOADED", {})
    loaded = classifier.load_classifier(judge="second")
    assert loaded.name == "second_judge"
    np.testing.assert_allclose(
        classifier.features_and_predictions(images, judge="second")[0],
        keras.Model(again.inputs, again.get_layer("features").output).predict(
            images.astype("float32"), verbose=0
        ),
        rtol=1e-5,
        atol=1e-6,
    )


def _brute_force_mean_distance(points):
    flat = np.asarray(points, "float64").reshape(len(points), -1)
    distances = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    return distances[np.triu_indices(len(flat), 1)].mean()


@pytest.mark.parametrize("block", [1, 7, 1 << 22])
def test_mean_pairwise_distance_in_blocks_matches_all_pairs(monkeypatch, block):
    points = np.random.default_rng(0).normal(size=(37, 5))
    monkeypatch.setattr(metrics, "PAIRWISE_BLOCK_NUMBERS", block)
    assert metrics.mean_pairwise_distance(points, max_images=None) == pytest.approx(
        _brute_force_mean_distance(points), rel=1e-6
    )


def test_mean_pairwise_distance_memory_stays_bounded():
    # guidance_sweep at 1,000 images per class used to build an (n, n, 64)
    # float64 array: 512 MB. The blocks hold at most 16 MB of float32.
    import tracemalloc

    features = np.random.default_rng(0).normal(size=(1000, 64)).astype("float32")
    tracemalloc.start()
    try:
        value = metrics.mean_pairwise_distance(features, max_images=None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40e6
    assert value == pytest.approx(np.sqrt(2 * 64), rel=0.02)  # two N(0, I) points
