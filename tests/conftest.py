import os
import re

# One BLAS thread per test process. `make test` runs two xdist workers on two cores; SciPy's
# threaded OpenBLAS (which jaxlib's CPU LAPACK calls) would start a thread per core in each, and
# the workers then fight (the Monte Carlo files ran 6-8 times slower side by side than alone). The
# variables reach SciPy (imported later) and every subprocess; NumPy's BLAS, already loaded by
# pytest's plugins, is limited through threadpoolctl.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
try:
    import threadpoolctl

    threadpoolctl.threadpool_limits(int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")
except ImportError:  # an optional dependency: the variables above still pin SciPy's BLAS
    pass

# No persistent compilation cache in the test processes nor in the subprocesses they start (the
# variable is inherited; `test_cli.py::test_persistent_compilation_cache` removes it to test the
# command line's own cache). With one shared on disk, a CI run crashed (SIGSEGV in jaxlib 0.10's
# `deserialize_executable`, loading a program another process had stored) and pytest-xdist then
# waited for a replacement worker until CI's time ran out. Without it no test process loads a
# program it did not compile; what it cost is in benchmarks/RESULTS.md ("Test suite").
os.environ.setdefault("JAX_ENABLE_COMPILATION_CACHE", "false")
# The suite is bound by XLA compilation (about 2,600 programs). The lowest backend optimisation
# level compiles about 20 % faster, and XLA's CPU loop emitters about twice as fast as its newer
# fusion emitters where the jaxlib has them (`jaxcollapse._cache.fast_compile_flags`; measured:
# 37.8 s -> 18.5 s of compilation on a sample of the suite, 9:35 -> 7:45 for the whole suite).
# Neither changes a result beyond rounding (the tests' tolerances are far wider). The transformer's
# training, which runs far longer than it compiles, keeps full optimisation at top level
# (`jaxcollapse._cache.execution_bound_jit`). Importing jaxcollapse here starts no backend: the
# flags still take effect.
# `cpu_flags` also turns off the XLA:CPU fusions that crash jaxlib 0.10.2 (`jaxcollapse._cache`).
from jaxcollapse._cache import cpu_flags  # noqa: E402

os.environ.setdefault("XLA_FLAGS", f"--xla_backend_optimization_level=0 {cpu_flags()}".strip())

import jax  # noqa: E402
import pytest  # noqa: E402

if os.environ.get("JC_COUNT_COMPILES"):  # a file: one line per XLA compilation (benchmarks/test_tiers.sh)
    import jax.monitoring  # noqa: E402

    def _count_compilation(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            with open(os.environ["JC_COUNT_COMPILES"], "a") as log:
                log.write("1\n")

    jax.monitoring.register_event_duration_secs_listener(_count_compilation)

jax.config.update("jax_enable_x64", True)


# A test worker compiles about 1,500 programs, each holding ~20–40 memory mappings; at Linux's cap
# (65,530) the next compilation crashed the worker (what killed CI runs: `jaxcollapse._cache`).
# Past half the cap a worker lets its compiled programs go when it moves to another file (whose tests
# share few programs with the last one's), and between any two tests past 80 % of it.
def pytest_runtest_teardown(item, nextitem):
    from jaxcollapse._cache import release_compiled_programs

    new_file = nextitem is None or nextitem.path != item.path
    release_compiled_programs(0.5 if new_file else 0.8)


jax.config.update(
    "jax_numpy_rank_promotion", os.environ.get("JC_RANK_PROMOTION", "raise")
)  # broadcasting across ranks must be explicit


def close_to_table(value, printed: str) -> bool:
    """Agreement with a table entry to the precision it is printed with (half a unit in the last digit),
    or 1e-6 relative, whichever is looser: the tables round to about six significant digits."""
    digits = printed.lower().split("e")[0]
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    exponent = int(printed.lower().split("e")[1]) if "e" in printed.lower() else 0
    half_unit = 0.5 * 10.0 ** (exponent - decimals)
    expected = float(printed)
    return abs(float(value) - expected) <= max(half_unit * (1 + 1e-9), 1e-6 * abs(expected))


# ---------------------------------------------------------------------------------------------
# Two tiers, declared here and nowhere else.
#
# `make test` (plain `pytest`, `--tier fast`) runs every public function's behaviour at small sizes:
# closed forms, independent references, gradients against finite differences, statuses,
# thresholds, bad input, properties at their default budget, the sweep engine on tiny grids, the
# fit on a tiny table, the explorer's model layer and HTTP API. `make test-all` (`--tier all`, what
# CI runs) adds the slow tier below. A pattern is a path inside tests/ and a test id, literal but
# for `*` (any characters); "test_x.py" is a whole file. Every pattern must match a test. A check
# that becomes slow goes into its category here, never out of the suite.
SLOW_TIER = {
    "end-to-end runs (every experiment's quick run, fit-demo, the CLI and the example in a subprocess)": (
        "test_experiments.py",
        "test_experiments_tails.py",
        "test_experiments_networks.py",
        "test_fit.py::test_fit_demo_recovers_what_it_simulated",
        "test_fit.py::test_cli_fit_writes_its_folder",
        "test_gcd.py::test_training_is_deterministic_and_the_loss_falls",
        "test_gcd.py::test_quick_run_draws_and_makes_sense",
        "test_cli.py::test_main_job_runs_the_phase_diagram",
        "test_cli.py::test_float32_run_agrees_with_float64",
        "test_cli.py::test_persistent_compilation_cache",
        "test_cli.py::test_bench_prints_its_table",
        "test_nn.py::test_cli_reports_a_missing_extra_in_one_line",
        "test_examples.py",
        "test_explore.py::test_save_writes_what_a_run_writes",
    ),
    "the package built (wheel, sdist) and installed into a clean environment": ("test_packaging.py",),
    "the notebooks": ("test_notebooks.py",),
    "Monte Carlo agreement with many trials": (
        "test_simulate_ridge.py::test_theory_matches_simulation*",
        "test_simulate_ridge.py::test_simulation_resolves_the_collapse_term",
        "test_simulate_random_projections.py::test_theory_matches_simulation*",
        "test_simulate_random_projections.py::test_simulation_resolves_the_width_effect_on_collapse",
        "test_random_features.py::test_*against_simulation*",
        "test_random_features_operator.py::test_*against_simulation*",
        "test_retraining.py::test_theory_matches_simulation*",
        "test_data_loop.py::test_theory_against_simulation*",
        "test_data_loop_subsample.py::test_theory_against_simulation*",
        "test_tails.py::test_simulation_agrees_with_exact_sums*",
        "test_tails.py::test_empirical_chain_approximation_against_simulation",
        "test_tails.py::test_simulated_learning_curves_in_one_pass",
        "test_bigram.py::test_top_k_floor",
        "test_bigram.py::test_expected_tv_matches_monte_carlo_*",
        "test_random_features.py::test_simulated_relu_features_scale_with_the_spectrum",
    ),
    "trained networks": ("test_nn.py::test_linear_two_layer_network_reaches_the_ridgeless_linear_theory",),
    "several processes or devices, kill and resume": (
        "test_distributed.py",
        "test_sweep.py::test_killed_runs_lose_at_most_the_chunk_in_flight",
        "test_sweep.py::test_sharded_over_four_devices_equals_one_device",
    ),
    "the headless browser": (
        "test_explore.py::test_page_loads_without_console_errors",
        "test_explore.py::test_quality_slider_moves_the_picture_and_the_boundary",
        "test_explore.py::test_hover_shows_the_curves_of_the_served_diagram",
        "test_explore.py::test_bad_text_input_shows_a_message_and_keeps_the_picture",
        "test_explore.py::test_save_button_writes_valid_files",
        "test_explore.py::test_model_menu_switches_to_ridge_over_n",
        "test_explore.py::test_the_address_is_a_link_to_the_view",
    ),
    # The fast tier keeps one case of each of these behaviours (the same check on the first
    # configuration, or the first derivative); the slow tier adds the others, each of which costs
    # compilations of its own.
    "further cases of a behaviour the fast tier checks once": (
        "test_data_loop.py::test_accumulate_with_a_fresh_design_and_a_ridge_up_to_its_largest_horizon",
        "test_transforms.py::test_jit_vmap_and_compositions_agree_with_eager[*u2260*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[simulate.random_projections*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[simulate.random_features*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[simulate.retraining*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[simulate.data_loop*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[theory.data_loop[generations]]",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[theory.data_loop[generator_noise_var]]",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[theory.data_loop[lam]]",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[tails.acquire_tail*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[tails.mix*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[tails.generations*",
        "test_sweep_kernels_axes.py::test_sweep_matches_direct_calls[tails.narrow*",
        "test_transforms.py::test_second_derivatives_match_finite_differences*",
        "test_optimal.py::test_vmap_of_optimal_matches_the_broadcast_call",
        "test_optimal.py::test_vectorised_over_other_axes_and_matches_a_dense_scan",
        "test_optimal.py::test_optimum_on_a_bound_and_weight_and_width",
        "test_random_features.py::test_width_is_real_valued_and_differentiable",
        "test_random_features.py::test_gradients_on_a_power_law",
        "test_random_features.py::test_compressed_equals_full_for_nonlinear_features",
        "test_random_features.py::test_relu_is_homogeneous_and_tanh_is_not",
        "test_tails.py::test_jit_vmap_broadcast",
        "test_tails.py::test_optimal_minimises_a_tail_like_any_kernel",
        "test_tails.py::test_identities_between_models",
        "test_tails.py::test_plateaus_rise_with_generations",
        "test_explore.py::test_random_features_picture_is_the_theory",
        "test_properties.py::test_invariants[random_features]",
        "test_data_loop.py::test_a_compressed_mixture_gives_the_same_ridge_theory",
        "test_data_loop.py::test_simulator_policies_share_generation_zero_and_trials_are_independent_of_chunks",
        "test_simulate_random_projections.py::test_nested_widths_do_not_depend_on_the_other_widths_requested",
        "test_simulate_random_projections.py::test_results_do_not_depend_on_chunking",
        "test_sweep.py::test_a_second_sweep_reuses_the_compiled_program",
        "test_reliability.py::test_random_projections_wide_grid*",
        "test_transforms.py::test_grad_matches_finite_differences[n240-*",
        "test_transforms.py::test_grad_with_respect_to_spectra[*u2260*",
        "test_random_projections_transforms.py::test_grad_matches_finite_differences[n60-m90-*",
        "test_random_projections_transforms.py::test_grad_matches_finite_differences[n60-m400-*",
        "test_random_projections_transforms.py::test_grad_matches_finite_differences[n300-m200-*",
        "test_random_projections_transforms.py::test_grad_matches_finite_differences[n60-m150-*",
        "test_data_loop.py::test_ridge_transforms_and_gradients[replace-fresh]",
        "test_data_loop_subsample.py::test_subsample_gradients_and_batches[fresh]",
        "test_compress.py::test_*_on_nodes_matches_full_spectrum[power law, source]",
        "test_compress.py::test_*_on_nodes_matches_full_spectrum[steep power law]",
        "test_compress.py::test_*_on_nodes_matches_full_spectrum[isotropic]",
        "test_buckets.py::test_ridge_bucketed_equals_the_unpadded_points[shape3]",
        "test_thresholds.py::test_ridge_thresholds_scalar_batch_and_table[noiseless isotropic*",
        "test_tails.py::test_known_chain_against_direct_summation[1.5-*",
        "test_tails.py::test_known_chain_against_direct_summation[2.5-*",
        "test_tails.py::test_top_p_chain_against_cumulative_table[1.5-*",
        "test_tails.py::test_top_p_chain_against_cumulative_table[3.0-*",
        "test_explore.py::test_no_slider_move_recompiles[ridge]",
        "test_transforms.py::test_grad_matches_finite_differences[*u2260*",
        "test_random_projections_transforms.py::test_grad_matches_finite_differences[n300-m500-*",
        "test_random_projections_transforms.py::test_grad_matches_finite_differences[n60-m25-lam0-*",
        "test_simulate_random_projections.py::test_single_positive_ridge_takes_the_cholesky_path_with_the_same_result",
        "test_simulate_ridge.py::test_chunking_does_not_change_results",
        "test_data_loop.py::test_ridge_transforms_and_gradients*",
        "test_buckets.py::test_ridge_bucketed_equals_the_unpadded_points[shape2]",
        "test_buckets.py::test_other_kernels_bucketed_equal_the_unpadded_points",
        "test_tails.py::test_exact_against_direct_summation[cut-*",
        "test_tails.py::test_exact_against_direct_summation[narrow-*",
        "test_tails.py::test_exact_against_direct_summation[mix-*",
        "test_tails.py::test_exact_against_direct_summation[acquire-*",
        "test_tails.py::test_mixing_grokking_regimes[0.01]",
        "test_tails.py::test_mixing_grokking_regimes[0.1]",
        "test_tails.py::test_generation_laws[4]",
        "test_tails.py::test_generation_laws[6]",
        "test_tails.py::test_acquire_tail_depth",
        "test_gcd.py::test_cut_batches_never_weigh_labels_beyond_the_cut",
        "test_sweep.py::test_simulation_kernel_adds_a_trial_dimension_and_matches_a_direct_call",
        "test_buckets.py::test_one_program_per_bucket_whatever_the_grid_size_or_d",
        "test_random_features_operator.py::test_compressed_mixtures_and_fixed_teachers*",
    ),
    "derived quantities checked on dense grids or through second derivatives": (
        "test_optimal.py::test_derivatives_at_the_optimum",
        "test_fit.py::test_synthetic_limit_and_optimal_weight_against_a_dense_grid",
        "test_random_projections_transforms.py::test_width_where_bigger_stops_hurting_by_a_vmapped_root_solve",
    ),
}
TIERS = ("fast", "slow", "all")


def pytest_addoption(parser):
    parser.addoption(
        "--tier",
        choices=TIERS,
        default="fast",
        help="fast: `make test` (the default); slow: only the slow tier; all: both (`make test-all`, CI)",
    )


def _matches(pattern: str, name: str) -> bool:
    regex = ".*".join(map(re.escape, pattern.split("*")))
    return re.fullmatch(regex + r"(::.*)?", name) is not None


def slow_category(nodeid: str, registry=SLOW_TIER):
    """The slow-tier `(category, pattern)` of a test (`nodeid` relative to tests/ or to the
    repository), or None for the fast tier."""
    name = nodeid.removeprefix("tests/")
    for category, patterns in registry.items():
        for pattern in patterns:
            if _matches(pattern, name):
                return category, pattern
    return None


def pytest_collection_modifyitems(config, items):
    tier = config.getoption("--tier")
    matched, selected, deselected = set(), [], []
    for item in items:
        found = slow_category(item.nodeid)
        if found:
            matched.add(found[1])
            item.add_marker(pytest.mark.slow(reason=found[0]))
        (selected if tier == "all" or (tier == "slow") == bool(found) else deselected).append(item)
    whole_suite = not config.option.keyword and not config.option.markexpr and not config.args[1:]
    if whole_suite and all(os.path.basename(a.rstrip("/")) == "tests" for a in config.args):
        stale = [p for patterns in SLOW_TIER.values() for p in patterns if p not in matched]
        if stale:
            raise pytest.UsageError(f"tests/conftest.py SLOW_TIER patterns that match no test: {stale}")
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config):
    tier = config.getoption("--tier")
    other = "; `make test-all` (--tier all) adds the slow tier" if tier == "fast" else ""
    return f"jaxcollapse test tier: {tier}{other}"


@pytest.fixture
def key():
    return jax.random.key(20261124)
