# Builds the gallery: docs/gallery/NN-name.R -> NN-name.json, NN-name.png,
# NN-name.svg and docs/gallery.md.
#
#   make run          # or any running ngx_bubble
#   make gallery      # = LC_ALL=C.UTF-8 Rscript docs/gallery/build.R http://127.0.0.1:8080/chart
#
# Each NN-name.R starts with "# title:" and "# shows:" lines, then R code
# that leaves a spec in `spec`; it runs from the repository root with
# ggplot2 and the ngxbubble package (clients/r, installed from the working
# tree into a temporary library first) loaded.  The PNG and the SVG come
# from the module through the chart URL (bubble_png/bubble_svg); the PNG is
# recompressed losslessly with ImageMagick when it is installed.

lib <- tempfile("ngxbubble-lib")
dir.create(lib)
out <- system2(file.path(R.home("bin"), "R"),
               c("CMD", "INSTALL", "--no-test-load", "-l", shQuote(lib), "clients/r"),
               stdout = TRUE, stderr = TRUE)
if (!is.null(attr(out, "status"))) {
    stop("R CMD INSTALL clients/r failed:\n", paste(out, collapse = "\n"))
}
suppressPackageStartupMessages({
    library(ggplot2)
    library(ngxbubble, lib.loc = lib)
})
# what a chart cannot show of its ggplot is a warning here, not an error
# (bubble_from_ggplot's default): the gallery is built whole, and the
# warning names what its image leaves out
options(ngxbubble.strict = FALSE)

args <- commandArgs(trailingOnly = TRUE)
base <- if (length(args)) args[1] else "http://127.0.0.1:8080/chart"
dir <- "docs/gallery"
files <- sort(Sys.glob(file.path(dir, "[0-9][0-9]-*.R")))
im <- Filter(function(p) nzchar(p) && file.exists(p), c(Sys.which("magick"), "/usr/bin/convert"))

md <- c("# Gallery",
        "",
        "Charts drawn by ngx_bubble, each made in R with the ngxbubble package",
        "([`clients/r`](../clients/r)): from a ggplot with",
        "`bubble_from_ggplot()`, or from a data.frame with `bubble_spec()`.",
        "Every image here is the PNG the module served for the chart's URL;",
        "next to it are the R code and the spec it sent. Click an image for its",
        "SVG (tooltips on hover where the spec maps `tooltip`).",
        "",
        "All the code below starts with:",
        "",
        "```r",
        "library(ggplot2)",
        "library(ngxbubble)                         # R CMD INSTALL clients/r",
        "base <- \"http://127.0.0.1:8080/chart\"      # make run",
        "```",
        "",
        "and ends with the chart's URL or image:",
        "",
        "```r",
        "bubble_url(spec, base)                       # a compact GET URL (secret = ... signs it)",
        "bubble_png(spec, base, file = \"chart.png\")   # or bubble_svg(), bubble_pdf()",
        "```",
        "",
        "The same charts next to ggplot2's own rendering are in",
        "[compare/](compare/README.md). Rebuild this page with `make gallery`",
        "(the module running: `make run`).",
        "")
toc <- character()
body <- character()

for (f in files) {
    name <- sub("\\.R$", "", basename(f))
    lines <- readLines(f, encoding = "UTF-8")
    title <- sub("^# title: *", "", grep("^# title:", lines, value = TRUE)[1])
    shows <- sub("^# shows: *", "", grep("^# shows:", lines, value = TRUE)[1])
    code <- lines[!grepl("^# (title|shows):", lines)]
    env <- new.env(parent = globalenv())
    eval(parse(text = code, encoding = "UTF-8"), envir = env)
    spec <- env$spec
    json <- bubble_json(spec, pretty = TRUE)
    writeBin(charToRaw(json), file.path(dir, paste0(name, ".json")))
    png_file <- file.path(dir, paste0(name, ".png"))
    png <- bubble_png(spec, base, file = png_file, secret = NULL, full = TRUE)
    bubble_svg(spec, base, file = file.path(dir, paste0(name, ".svg")), secret = NULL)
    if (length(im)) {
        system2(im[1], c(shQuote(png_file), "-strip", "-define", "png:compression-level=9",
                         shQuote(png_file)))
    }
    size <- bubble_png_size(png$body)
    url <- bubble_url(spec, "/chart", secret = NULL)
    cat(sprintf("%-24s %4dx%-4d %7d bytes PNG, compact URL %5d bytes, %s\n", name,
                size[1], size[2], file.info(png_file)$size, nchar(url),
                png$method))

    # GitHub's heading anchors: punctuation dropped, spaces to hyphens
    anchor <- gsub(" ", "-", gsub("[^a-z0-9 _-]", "", tolower(title)))
    toc <- c(toc, sprintf("- [%s](#%s)", title, anchor))
    body <- c(body,
              paste("##", title), "",
              paste0(shows, "."), "",
              sprintf("[![%s](gallery/%s.png)](gallery/%s.svg)", title, name, name), "",
              "```r", code, "```", "",
              sprintf(paste0("The spec ([gallery/%s.json](gallery/%s.json), %d bytes; ",
                             "its compact URL is %d bytes):"),
                      name, name, nchar(bubble_json(spec), type = "bytes"), nchar(url)),
              "",
              "<details><summary>spec</summary>", "",
              "```json", sub("\n$", "", json), "```", "", "</details>", "")
}

writeLines(enc2utf8(c(md, toc, "", body)), "docs/gallery.md", useBytes = TRUE)
cat("wrote docs/gallery.md:", length(files), "charts\n")
