# The ngxbubble package's testthat suite (clients/r/tests/testthat) against
# an installed ngxbubble and a running ngx_bubble, printed as TAP: one line
# per test_that() block, "ok N - file: test" or "not ok N - file: test" with
# the failures as "#" lines; skipped blocks are "ok N - ... # SKIP reason".
#
#   R_LIBS=LIB NGXBUBBLE_TEST_SERVER=http://127.0.0.1:PORT/chart \
#   NGXBUBBLE_TEST_SIGNED=http://127.0.0.1:PORT/signed NGXBUBBLE_TEST_SECRET=S \
#   NGXBUBBLE_TEST_REPO=$PWD Rscript tests/r/run_tests.R
#
# Run from the repository root; t/016_r_client.t installs the package into
# a temporary library, starts nginx and runs this.  The last line is
# "# expectations: P passed, F failed, S skipped, W warnings"; the exit
# status is 1 when a block failed.

suppressPackageStartupMessages({
    library(testthat)
    library(ngxbubble)
})

dir <- "clients/r/tests/testthat"
res <- test_dir(dir, package = "ngxbubble", load_package = "installed",
                reporter = "silent", stop_on_failure = FALSE, stop_on_warning = FALSE)

n <- 0L
failed <- 0L
count <- c(passed = 0L, failed = 0L, skipped = 0L, warnings = 0L)
for (t in res) {
    n <- n + 1L
    kinds <- vapply(t$results, function(e) {
        if (inherits(e, "expectation_success")) "passed"
        else if (inherits(e, "expectation_skip")) "skipped"
        else if (inherits(e, "expectation_warning")) "warnings"
        else "failed"
    }, "")
    for (k in kinds) count[[k]] <- count[[k]] + 1L
    bad <- t$results[kinds %in% c("failed", "warnings")]
    name <- sprintf("%s: %s", sub("^test-(.*)\\.R$", "\\1", t$file), t$test)
    name <- gsub("[\r\n]+", " ", name)
    if (length(bad) || !length(kinds)) {
        failed <- failed + 1L
        cat(sprintf("not ok %d - %s\n", n, name))
        msg <- if (length(bad)) vapply(bad, conditionMessage, "") else "no expectation ran"
        cat(paste0("#   ", unlist(strsplit(paste(msg, collapse = "\n"), "\n"))), sep = "\n")
    } else if (any(kinds == "skipped")) {
        why <- conditionMessage(t$results[[which(kinds == "skipped")[1]]])
        cat(sprintf("ok %d - %s # SKIP %s\n", n, name, gsub("[\r\n]+", " ", why)))
    } else {
        cat(sprintf("ok %d - %s\n", n, name))
    }
}
cat("1..", n, "\n", sep = "")
cat(sprintf("# expectations: %d passed, %d failed, %d skipped, %d warnings\n",
            count[["passed"]], count[["failed"]], count[["skipped"]], count[["warnings"]]))
quit(status = if (failed > 0) 1 else 0)
