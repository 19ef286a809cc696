//! Compile-pass cases of `#[mysql_lock]` and `#[mysql_lock::jobs]`: every
//! `ui/pass/*.rs` must build, as a module of this one test crate (one
//! compilation and one link: built by trybuild as a binary each, they took
//! about 100 s of the suite). The cases that must be crate roots (they name
//! `crate::` paths, or check lints that judge a crate's public items) are
//! integration tests of their own: `tests/pass_*.rs`. A case's `main` only
//! names the locked functions, never calls them, so nothing connects to a
//! server: [`pass_cases_run`] calls every module's `main`.

#![allow(clippy::all)]

#[path = "ui/pass/anyhow-result.rs"]
mod anyhow_result;
#[path = "ui/pass/async-early-return-and-question-mark.rs"]
mod async_early_return_and_question_mark;
#[path = "ui/pass/async-fn.rs"]
mod async_fn;
#[path = "ui/pass/async-futures-are-send.rs"]
mod async_futures_are_send;
#[path = "ui/pass/async-generics-and-impl-trait.rs"]
mod async_generics_and_impl_trait;
#[path = "ui/pass/async-if-busy-skip-and-templates.rs"]
mod async_if_busy_skip_and_templates;
#[path = "ui/pass/async-method-receivers.rs"]
mod async_method_receivers;
#[path = "ui/pass/async-stacked-locks.rs"]
mod async_stacked_locks;
#[path = "ui/pass/async-with-tokio-main-and-instrument.rs"]
mod async_with_tokio_main_and_instrument;
#[path = "ui/pass/clashing-identifiers.rs"]
mod clashing_identifiers;
#[path = "ui/pass/clashing-local-names.rs"]
mod clashing_local_names;
#[path = "ui/pass/closure-body-shapes.rs"]
mod closure_body_shapes;
#[path = "ui/pass/closure-borrows-and-moves.rs"]
mod closure_borrows_and_moves;
#[path = "ui/pass/closure-return-types.rs"]
mod closure_return_types;
#[path = "ui/pass/closure-self-in-generic-impl.rs"]
mod closure_self_in_generic_impl;
#[path = "ui/pass/custom-error-with-from.rs"]
mod custom_error_with_from;
#[path = "ui/pass/early-return-and-question-mark.rs"]
mod early_return_and_question_mark;
#[path = "ui/pass/free-fn.rs"]
mod free_fn;
#[path = "ui/pass/generic-fn-with-where-clause.rs"]
mod generic_fn_with_where_clause;
#[path = "ui/pass/if-busy-skip.rs"]
mod if_busy_skip;
#[path = "ui/pass/impl-trait-argument.rs"]
mod impl_trait_argument;
#[path = "ui/pass/items-declared-after-statements.rs"]
mod items_declared_after_statements;
#[path = "ui/pass/jobs-async-futures-not-awaited.rs"]
mod jobs_async_futures_not_awaited;
#[path = "ui/pass/jobs-cfg-attr-with-cfg-left-out.rs"]
mod jobs_cfg_attr_with_cfg_left_out;
#[path = "ui/pass/jobs-false-positives.rs"]
mod jobs_false_positives;
#[path = "ui/pass/jobs-guard-moved-into-closure.rs"]
mod jobs_guard_moved_into_closure;
#[path = "ui/pass/jobs-held-by-hand-released-first.rs"]
mod jobs_held_by_hand_released_first;
#[path = "ui/pass/jobs-local-shadows-after-binding.rs"]
mod jobs_local_shadows_after_binding;
#[path = "ui/pass/jobs-module-clean.rs"]
mod jobs_module_clean;
#[path = "ui/pass/jobs-qualified-other-trait.rs"]
mod jobs_qualified_other_trait;
#[path = "ui/pass/jobs-renamed-attribute-clean.rs"]
mod jobs_renamed_attribute_clean;
#[path = "ui/pass/jobs-stacked-locks-same-order.rs"]
mod jobs_stacked_locks_same_order;
#[path = "ui/pass/jobs-stored-closure-spawned.rs"]
mod jobs_stored_closure_spawned;
#[path = "ui/pass/jobs-trait-impl-inherent-method-elsewhere.rs"]
mod jobs_trait_impl_inherent_method_elsewhere;
#[path = "ui/pass/jobs-zero-timeout-no-inversion.rs"]
mod jobs_zero_timeout_no_inversion;
#[path = "ui/pass/lazy-adaptors-not-run-under-the-lock.rs"]
mod lazy_adaptors_not_run_under_the_lock;
#[path = "ui/pass/lifetimes.rs"]
mod lifetimes;
#[path = "ui/pass/lock-binding-reassigned.rs"]
mod lock_binding_reassigned;
#[path = "ui/pass/lock-binding-shadowed.rs"]
mod lock_binding_shadowed;
#[path = "ui/pass/macro-rules-fragments.rs"]
mod macro_rules_fragments;
#[path = "ui/pass/method-receivers.rs"]
mod method_receivers;
#[path = "ui/pass/min-hold.rs"]
mod min_hold;
#[path = "ui/pass/name-templates.rs"]
mod name_templates;
#[path = "ui/pass/nesting-closures-not-run-under-the-lock.rs"]
mod nesting_closures_not_run_under_the_lock;
#[path = "ui/pass/nesting-false-positives.rs"]
mod nesting_false_positives;
#[path = "ui/pass/nesting-other-locks-allowed.rs"]
mod nesting_other_locks_allowed;
#[path = "ui/pass/other-crate-lock-type.rs"]
mod other_crate_lock_type;
#[path = "ui/pass/skip-option-behind-alias.rs"]
mod skip_option_behind_alias;
#[path = "ui/pass/stacked-different-locks.rs"]
mod stacked_different_locks;
#[path = "ui/pass/std-macros-patterns-are-not-calls.rs"]
mod std_macros_patterns_are_not_calls;
#[path = "ui/pass/template-raw-identifier.rs"]
mod template_raw_identifier;
#[path = "ui/pass/timeout-forms.rs"]
mod timeout_forms;
#[path = "ui/pass/using-other-alias.rs"]
mod using_other_alias;
#[path = "ui/pass/visibility-docs-and-attributes-kept.rs"]
mod visibility_docs_and_attributes_kept;

/// The cases listed above: every file of `ui/pass` is one (a new file
/// that is not added here fails this test).
const CASES: &[&str] = &[
    "anyhow-result.rs",
    "async-early-return-and-question-mark.rs",
    "async-fn.rs",
    "async-futures-are-send.rs",
    "async-generics-and-impl-trait.rs",
    "async-if-busy-skip-and-templates.rs",
    "async-method-receivers.rs",
    "async-stacked-locks.rs",
    "async-with-tokio-main-and-instrument.rs",
    "clashing-identifiers.rs",
    "clashing-local-names.rs",
    "closure-body-shapes.rs",
    "closure-borrows-and-moves.rs",
    "closure-return-types.rs",
    "closure-self-in-generic-impl.rs",
    "custom-error-with-from.rs",
    "early-return-and-question-mark.rs",
    "free-fn.rs",
    "generic-fn-with-where-clause.rs",
    "if-busy-skip.rs",
    "impl-trait-argument.rs",
    "items-declared-after-statements.rs",
    "jobs-async-futures-not-awaited.rs",
    "jobs-cfg-attr-with-cfg-left-out.rs",
    "jobs-false-positives.rs",
    "jobs-guard-moved-into-closure.rs",
    "jobs-held-by-hand-released-first.rs",
    "jobs-local-shadows-after-binding.rs",
    "jobs-module-clean.rs",
    "jobs-qualified-other-trait.rs",
    "jobs-renamed-attribute-clean.rs",
    "jobs-stacked-locks-same-order.rs",
    "jobs-stored-closure-spawned.rs",
    "jobs-trait-impl-inherent-method-elsewhere.rs",
    "jobs-zero-timeout-no-inversion.rs",
    "lazy-adaptors-not-run-under-the-lock.rs",
    "lifetimes.rs",
    "lock-binding-reassigned.rs",
    "lock-binding-shadowed.rs",
    "macro-rules-fragments.rs",
    "method-receivers.rs",
    "min-hold.rs",
    "name-templates.rs",
    "nesting-closures-not-run-under-the-lock.rs",
    "nesting-false-positives.rs",
    "nesting-other-locks-allowed.rs",
    "other-crate-lock-type.rs",
    "skip-option-behind-alias.rs",
    "stacked-different-locks.rs",
    "std-macros-patterns-are-not-calls.rs",
    "template-raw-identifier.rs",
    "timeout-forms.rs",
    "using-other-alias.rs",
    "visibility-docs-and-attributes-kept.rs",
];

#[test]
fn pass_cases_run() {
    anyhow_result::main();
    async_early_return_and_question_mark::main();
    async_fn::main();
    async_futures_are_send::main();
    async_generics_and_impl_trait::main();
    async_if_busy_skip_and_templates::main();
    async_method_receivers::main();
    async_stacked_locks::main();
    async_with_tokio_main_and_instrument::main();
    clashing_identifiers::main();
    clashing_local_names::main();
    closure_body_shapes::main();
    closure_borrows_and_moves::main();
    closure_return_types::main();
    closure_self_in_generic_impl::main();
    custom_error_with_from::main();
    early_return_and_question_mark::main();
    free_fn::main();
    generic_fn_with_where_clause::main();
    if_busy_skip::main();
    impl_trait_argument::main();
    items_declared_after_statements::main();
    jobs_async_futures_not_awaited::main();
    jobs_cfg_attr_with_cfg_left_out::main();
    jobs_false_positives::main();
    jobs_guard_moved_into_closure::main();
    jobs_held_by_hand_released_first::main();
    jobs_local_shadows_after_binding::main();
    jobs_module_clean::main();
    jobs_qualified_other_trait::main();
    jobs_renamed_attribute_clean::main();
    jobs_stacked_locks_same_order::main();
    jobs_stored_closure_spawned::main();
    jobs_trait_impl_inherent_method_elsewhere::main();
    jobs_zero_timeout_no_inversion::main();
    lazy_adaptors_not_run_under_the_lock::main();
    lifetimes::main();
    lock_binding_reassigned::main();
    lock_binding_shadowed::main();
    macro_rules_fragments::main();
    method_receivers::main();
    min_hold::main();
    name_templates::main();
    nesting_closures_not_run_under_the_lock::main();
    nesting_false_positives::main();
    nesting_other_locks_allowed::main();
    other_crate_lock_type::main();
    skip_option_behind_alias::main();
    stacked_different_locks::main();
    std_macros_patterns_are_not_calls::main();
    template_raw_identifier::main();
    timeout_forms::main();
    using_other_alias::main();
    visibility_docs_and_attributes_kept::main();
}

#[test]
fn every_pass_case_is_listed() {
    let mut files: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ui/pass"))
            .expect("the pass cases")
            .map(|entry| {
                entry
                    .expect("a directory entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".rs"))
            .collect();
    files.sort();
    assert_eq!(files, CASES, "add the new case to tests/ui_pass.rs");
}
