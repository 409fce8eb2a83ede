# Against the ngx_bubble repository's other URL builder (tools/bubble-url,
# Python): R mints other bytes for the same spec (see ?bubble_url), but the
# same chart: the server gives both URLs the same ETag, and accepts both
# signatures.

python_url <- function(repo, file, server, format = "png", readable = FALSE, secret = NULL) {
    args <- c(file.path(repo, "tools", "bubble-url"), "--base", server, "--format", format,
              if (readable) "--readable", if (!is.null(secret)) c("--secret", secret), file)
    out <- system2("python3", shQuote(args), stdout = TRUE)
    Encoding(out) <- "UTF-8"
    out
}

# Many URLs in one Python run: tools/bubble-url's build() for each job
# (file, format, readable).
python_urls <- function(repo, server, jobs) {
    f <- tempfile(fileext = ".json")
    on.exit(unlink(f))
    writeLines(jsonlite::toJSON(jobs, auto_unbox = TRUE), f)
    py <- paste(
        "import importlib.machinery, json, sys",
        "m = importlib.machinery.SourceFileLoader('bu', sys.argv[1]).load_module()",
        "for j in json.load(open(sys.argv[3], encoding='utf-8')):",
        "    spec = json.load(open(j['file'], encoding='utf-8'))",
        "    print(m.build(spec, sys.argv[2], j['format'], j['readable'], None))", sep = "\n")
    out <- system2("python3", c("-c", shQuote(py), shQuote(file.path(repo, "tools", "bubble-url")),
                                shQuote(server), shQuote(f)), stdout = TRUE)
    Encoding(out) <- "UTF-8"
    out
}

head_etag <- function(url) {
    r <- http_get(url, head = TRUE)
    list(status = r$status, etag = r$headers[["etag"]])
}

test_that("the examples and workloads: R's URL and tools/bubble-url's are the same chart", {
    repo <- test_repo()
    srv <- test_server()
    files <- c(Sys.glob(file.path(repo, "examples", "*.json")),
               Sys.glob(file.path(repo, "tests", "bench", "workloads", "w[12]-*.json")))
    expect_gte(length(files), 14)
    jobs <- list()
    for (f in files) {
        spec <- bubble_read_spec(f)
        for (form in list(list("png", FALSE), list("svg", TRUE))) {
            url <- bubble_url(spec, srv, secret = NULL, format = form[[1]], readable = form[[2]])
            if (nchar(url, type = "bytes") > 8000) next     # 414: POSTed, below
            jobs[[length(jobs) + 1]] <- list(file = f, format = form[[1]],
                                             readable = form[[2]], ours = url)
        }
    }
    theirs <- python_urls(repo, srv, lapply(jobs, `[`, c("file", "format", "readable")))
    expect_length(theirs, length(jobs))
    for (i in seq_along(jobs)) {
        j <- jobs[[i]]
        what <- paste(basename(j$file), j$format, if (j$readable) "readable" else "compact")
        ours <- head_etag(j$ours)
        other <- head_etag(theirs[i])
        expect_equal(ours$status, 200, label = what)
        expect_identical(ours$etag, other$etag, label = paste(what, "ETag"))
    }
})

test_that("a spec too long for a URL: the POSTed JSON is the same chart", {
    repo <- test_repo()
    srv <- test_server()
    f <- file.path(repo, "tests", "bench", "workloads", "w3-heavy.json")
    ours <- bubble_svg(bubble_read_spec(f), srv, full = TRUE)
    expect_equal(ours$method, "POST")
    h <- curl::new_handle(post = TRUE, postfields = readBin(f, "raw", file.size(f)))
    curl::handle_setheaders(h, "Content-Type" = "application/json")
    r <- curl::curl_fetch_memory(paste0(srv, ".svg"), handle = h)
    expect_identical(ours$etag, curl::parse_headers_list(r$headers)$etag)
})

test_that("signed URLs of both builders open the signed location", {
    repo <- test_repo()
    sg <- test_signed()
    f <- file.path(repo, "examples", "cjk-title.json")
    ours <- bubble_url(bubble_read_spec(f), sg$server, secret = sg$secret)
    theirs <- python_url(repo, f, sg$server, secret = sg$secret)
    expect_false(identical(ours, theirs))
    a <- head_etag(ours)
    b <- head_etag(theirs)
    expect_equal(c(a$status, b$status), c(200, 200))
    expect_identical(a$etag, b$etag)
})

test_that("ggplots and data.frame specs: GET and POST agree", {
    test_repo()
    srv <- test_server()
    for (n in names(test_plots())) {
        spec <- bubble_from_ggplot(test_plots()[[n]])
        get <- bubble_png(spec, srv, method = "get", full = TRUE)
        post <- bubble_png(spec, srv, method = "post", full = TRUE)
        expect_identical(get$etag, post$etag, label = n)
        expect_identical(get$body, post$body, label = n)
    }
})
