# The R package ngxbubble (clients/r).
#
#   make r-doc     regenerate clients/r/man/ and NAMESPACE from the roxygen
#                  comments in clients/r/R/ (commit the result)
#   make r-check   R CMD build (with the vignette) and R CMD check
#                  --no-manual in $(BUILD)/r-check; fails on an ERROR or a
#                  WARNING, or when man/ or NAMESPACE are not roxygen2's
#                  output of the sources.  About a minute.
#
# Its tests through nginx are t/016_r_client.t (make integration).  Debian
# packages: R_PKGS in the Makefile.

R_PKG_DIR   = clients/r
R_CHECK_DIR = $(BUILD)/r-check

.PHONY: r-doc r-check

r-doc:
	Rscript -e 'roxygen2::roxygenise("$(R_PKG_DIR)")'

r-check:
	rm -rf $(R_CHECK_DIR) && mkdir -p $(R_CHECK_DIR)/src
	cp -R $(R_PKG_DIR)/. $(R_CHECK_DIR)/src/
	cd $(R_CHECK_DIR)/src && Rscript -e 'roxygen2::roxygenise(".")' >/dev/null 2>&1
	@diff -r $(R_PKG_DIR)/man $(R_CHECK_DIR)/src/man && \
	    diff $(R_PKG_DIR)/NAMESPACE $(R_CHECK_DIR)/src/NAMESPACE || \
	    { echo "r-check: clients/r/man or NAMESPACE is out of date: make r-doc" >&2; exit 1; }
	@# an empty local repository: the dependency check looks for packages
	@# there instead of trying to reach CRAN
	mkdir -p $(R_CHECK_DIR)/repo/src/contrib && : > $(R_CHECK_DIR)/repo/src/contrib/PACKAGES
	echo 'options(repos = c(local = "file://$(abspath $(R_CHECK_DIR))/repo"))' \
	    > $(R_CHECK_DIR)/Rprofile
	cd $(R_CHECK_DIR) && R CMD build $(CURDIR)/$(R_PKG_DIR)
	cd $(R_CHECK_DIR) && LC_ALL=C.UTF-8 R_PROFILE_USER=$(abspath $(R_CHECK_DIR))/Rprofile \
	    R CMD check --no-manual ngxbubble_*.tar.gz
	@status=$$(grep '^Status:' $(R_CHECK_DIR)/ngxbubble.Rcheck/00check.log); \
	    echo "r-check: $$status"; \
	    if echo "$$status" | grep -Eq 'ERROR|WARNING'; then exit 1; fi
