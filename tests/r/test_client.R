# Tests of clients/r/bubble.R against a running ngx_bubble.
#
#   Rscript tests/r/test_client.R BASE SIGNED_BASE SECRET
#
# BASE is a location with `bubble;` (http://127.0.0.1:PORT/chart),
# SIGNED_BASE one that also has `bubble_url_secret SECRET`.  Run from the
# repository root; t/016_r_client.t starts nginx and runs this.  Prints TAP
# lines ("ok N - ...", "not ok N - ...") and exits 1 if any failed.
#
# What it checks:
#   - bubble_url() mints, byte for byte, the URL tools/bubble-url mints for
#     the same JSON (compact, readable, signed; PNG, SVG), for specs built
#     from data.frames and ggplots and for the repository's example specs;
#   - the URLs render through nginx: 200, a PNG of width*scale x
#     height*scale pixels; signed URLs pass, wrong or missing secrets get
#     403; a bad spec is a bubble_error naming the field;
#   - ggplots converted with bubble_from_ggplot() render with the same axis
#     tick labels, legend titles and legend entries that ggplot_build()
#     gives ggplot2's own rendering (read from our SVG's text).

suppressPackageStartupMessages({
    library(ggplot2)
})
source("clients/r/bubble.R")

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: test_client.R BASE SIGNED_BASE SECRET")
base <- args[1]
signed_base <- args[2]
secret <- args[3]

n_test <- 0L
n_fail <- 0L
ok <- function(cond, name, diag = NULL) {
    n_test <<- n_test + 1L
    pass <- isTRUE(cond)
    if (!pass) n_fail <<- n_fail + 1L
    cat(if (pass) "ok " else "not ok ", n_test, " - ", name, "\n", sep = "")
    if (!pass && !is.null(diag)) {
        cat(paste0("#   ", strsplit(paste(diag, collapse = "\n"), "\n")[[1]]), sep = "\n")
    }
    invisible(pass)
}
same <- function(got, want, name) {
    ok(identical(got, want), name,
       c(paste("got: ", paste(got, collapse = " | ")),
         paste("want:", paste(want, collapse = " | "))))
}


# --- data ------------------------------------------------------------------

gap <- as.data.frame(jsonlite::fromJSON("examples/gapminder-log10.json")$data,
                     stringsAsFactors = FALSE)
set.seed(20240611)
odd <- data.frame(
    x = c(0.1 + 0.2, 1 / 3, 1e-5, 2.3866502419737188, 123456.789, -0.0, 7),
    y = c(1e16, 1e22, -2.5, 0.0001, 21, runif(2)),
    n = c(1L, 2L, NA, 4L, 5L, 6L, 7L),
    s = c("plain", "quote \" and \\ backslash", "tab\tnewline\n", "\u4e2d\u6587",
          "\u00e9t\u00e9 \u2014 \U0001F600", "ctl\001\037", NA),
    f = factor(c("b", "a", "b", "c", "a", "c", "b"), levels = c("c", "b", "a")),
    stringsAsFactors = FALSE)

plots <- list()
plots$gapminder_log10_minimal <-
    ggplot(gap, aes(gdpPercap, lifeExp, size = pop, colour = continent)) +
    geom_point(alpha = 0.7) + scale_x_log10() + scale_size_area(max_size = 15) +
    labs(title = "Life expectancy and income, 2007", subtitle = "Gapminder",
         caption = "Data: gapminder", x = "GDP per capita", y = "Life expectancy",
         size = "Population", colour = "Continent") +
    theme_minimal()
plots$mtcars_sqrt_classic <-
    ggplot(mtcars, aes(wt, mpg, size = hp, colour = qsec)) + geom_point() +
    scale_y_sqrt() + scale_colour_viridis_c() +
    labs(title = "Motor Trend cars", x = "Weight (1000 lbs)") + theme_classic()
plots$gapminder_facets_dark <-
    ggplot(gap, aes(gdpPercap, lifeExp, size = pop)) + geom_point(colour = "gold") +
    scale_x_log10() + facet_wrap(~continent, ncol = 3) +
    labs(title = "By continent") + theme_dark()
plots$iris_radius_gray <-
    ggplot(iris, aes(Sepal.Length, Petal.Length, size = Petal.Width, colour = Species)) +
    geom_point(alpha = 0.6) + scale_radius(range = c(1, 8)) +
    scale_colour_brewer(palette = "Dark2") +
    labs(title = "\u9e22\u5c3e\u82b1 (iris)", y = "\u82b1\u74e3\u957f\u5ea6") + theme_gray()
plots$labels_function_shape21 <-
    ggplot(mtcars, aes(disp, mpg, fill = factor(gear))) +
    geom_point(shape = 21, colour = "grey30", size = 4) +
    scale_x_continuous(labels = function(x) paste0(x, " in\u00b3")) +
    scale_y_continuous(labels = scales::label_percent(scale = 1)) +
    labs(fill = "gears")
plots$mtcars_factor_reverse <-
    ggplot(mtcars, aes(hp, qsec, size = disp, colour = factor(cyl))) + geom_point() +
    scale_y_reverse() + scale_size_area() + labs(colour = "cylinders") +
    theme_minimal(base_size = 13)


# --- bubble_url() is tools/bubble-url --------------------------------------

# tools/bubble-url itself: its command line for one spec, and its build()
# for many (one Python start instead of one per URL)
python_url <- function(json, fmt, readable, key) {
    f <- tempfile(fileext = ".json")
    on.exit(unlink(f))
    writeBin(charToRaw(json), f)
    a <- c("tools/bubble-url", "--base", base, "--format", fmt,
           if (readable) "--readable", if (!is.null(key)) c("--secret", key), f)
    out <- system2("python3", shQuote(a), stdout = TRUE)
    Encoding(out) <- "UTF-8"
    out
}
python_urls <- function(jobs) {
    f <- tempfile(fileext = ".json")
    on.exit(unlink(f))
    writeBin(charToRaw(paste0("[", paste(vapply(jobs, function(j) {
        paste0("[", j$json, ",", bubble_json_string(j$fmt), ",",
               if (j$readable) "true" else "false", ",",
               if (is.null(j$key)) "null" else bubble_json_string(j$key), "]")
    }, ""), collapse = ","), "]")), f)
    py <- paste(
        "import importlib.machinery, json, sys",
        "m = importlib.machinery.SourceFileLoader('bu', 'tools/bubble-url').load_module()",
        "for spec, fmt, rd, key in json.load(open(sys.argv[2], encoding='utf-8')):",
        "    print(m.build(spec, sys.argv[1], fmt, rd, key))", sep = "\n")
    out <- system2("python3", c("-c", shQuote(py), shQuote(base), shQuote(f)), stdout = TRUE)
    Encoding(out) <- "UTF-8"
    out
}

specs <- list(
    data_frame = bubble_spec(gap, gdpPercap, lifeExp, size = pop, color = "continent",
                             label = "country", title = "Gapminder",
                             scales = list(x = list(scale = "log10"),
                                           size = list(range = c(1, 24)))),
    awkward_values = bubble_spec(odd, x, y, color = s, label = n, facet = f,
                                 title = "\u00ab\u5f15\u53f7\u00bb </text> & co"))
for (n in names(plots)) specs[[n]] <- bubble_from_ggplot(plots[[n]])
for (f in c("examples/cjk-title.json", "examples/labels-tooltips.json",
            "examples/breaks-labels-missing.json",
            Sys.glob("tests/bench/workloads/w[13]-*.json"))) {
    specs[[basename(f)]] <- bubble_read_spec(f)
}
ok(length(specs) >= 10, sprintf("%d specs to mint URLs for", length(specs)))

combos <- list(list("png", FALSE, NULL), list("svg", FALSE, secret),
               list("png", TRUE, secret), list("pdf", TRUE, NULL))
jobs <- list()
for (n in names(specs)) {
    json <- bubble_json(specs[[n]])
    for (cb in combos) {
        jobs[[length(jobs) + 1]] <- list(
            name = n, json = json, fmt = cb[[1]], readable = cb[[2]], key = cb[[3]],
            mine = bubble_url(specs[[n]], base, secret = cb[[3]], format = cb[[1]],
                              readable = cb[[2]]))
    }
}
theirs <- python_urls(jobs)
ok(length(theirs) == length(jobs), sprintf("tools/bubble-url built %d URLs", length(jobs)))
for (i in seq_along(jobs)) {
    j <- jobs[[i]]
    ok(identical(j$mine, theirs[i]),
       sprintf("bubble_url = tools/bubble-url: %s, %s%s%s", j$name, j$fmt,
               if (j$readable) ", readable" else ", compact",
               if (!is.null(j$key)) ", signed" else ""),
       c(paste("R:     ", substr(j$mine, 1, 160)),
         paste("Python:", substr(theirs[i], 1, 160))))
}

# the command line, once per form
for (cb in combos) {
    same(bubble_url(specs$data_frame, base, secret = cb[[3]], format = cb[[1]],
                    readable = cb[[2]]),
         python_url(bubble_json(specs$data_frame), cb[[1]], cb[[2]], cb[[3]]),
         sprintf("bubble_url = tools/bubble-url on the command line: %s%s%s", cb[[1]],
                 if (cb[[2]]) ", readable" else ", compact",
                 if (!is.null(cb[[3]])) ", signed" else ""))
}

# A JSON string is passed through as it is.
json <- "{\"data\":{\"x\":[1],\"y\":[2]}}"
same(bubble_url(json, base, secret = secret), python_url(json, "png", FALSE, secret),
     "bubble_url of a JSON string")


# --- the URLs render through nginx -----------------------------------------

for (n in names(specs)) {
    s <- specs[[n]]
    want <- c(width = (s$width %||% 800) * (s$scale %||% 1),
              height = (s$height %||% 600) * (s$scale %||% 1))
    png <- tryCatch(bubble_png(s, base), error = function(e) e)
    if (inherits(png, "error")) {
        ok(FALSE, sprintf("GET %s: PNG", n), conditionMessage(png))
        next
    }
    # GET through the chart URL, or a POST when the URL would be too long
    get <- nchar(bubble_url(s, base), type = "bytes") <= 8000
    ok(attr(png, "status") == 200 &&
       identical(attr(png, "url") != paste0(base, ".png"), get),
       sprintf("%s %s: 200", if (get) "GET" else "POST", n), attr(png, "url"))
    same(as.numeric(bubble_png_size(png)), as.numeric(want),
         sprintf("%s: PNG of %dx%d", n, as.integer(want[1]), as.integer(want[2])))
}

s <- specs$data_frame
png <- tryCatch(bubble_png(s, signed_base, secret = secret), error = function(e) e)
ok(!inherits(png, "error") && identical(bubble_png_size(png), c(width = 800, height = 600)),
   "signed URL: 200 and an 800x600 PNG",
   if (inherits(png, "error")) conditionMessage(png))
for (key in list(NULL, "not-the-secret")) {
    e <- tryCatch(bubble_png(s, signed_base, secret = key), error = function(e) e)
    ok(inherits(e, "bubble_error") && e$status == 403 && identical(e$path, "sig"),
       sprintf("signed location, %s: bubble_error 403 naming sig",
               if (is.null(key)) "no secret" else "wrong secret"),
       if (inherits(e, "error")) conditionMessage(e) else "no error")
}

ycol <- "lifeExp"
same(bubble_spec(gap, gdpPercap, ycol)$mapping, list(x = "gdpPercap", y = "lifeExp"),
     "bubble_spec: a variable holding a column name")
e <- tryCatch(bubble_spec(gap, gdpPercap, nosuch), error = function(e) e)
ok(inherits(e, "error") && grepl("no column nosuch", conditionMessage(e)),
   "bubble_spec: a missing column is an R error naming it")
bad <- bubble_spec(data.frame(a = c("x", "y"), b = 1:2), a, b)
e <- tryCatch(bubble_svg(bad, base), error = function(e) e)
ok(inherits(e, "bubble_error") && e$status == 400 && identical(e$path, "mapping.x") &&
   grepl("numbers", conditionMessage(e)),
   "a string x column: bubble_error 400 naming mapping.x",
   if (inherits(e, "error")) conditionMessage(e) else "no error")

# a spec too long for a URL is POSTed
big <- bubble_spec(data.frame(x = runif(3000), y = runif(3000)), x, y)
png <- bubble_png(big, base)
ok(grepl("/chart\\.png$", attr(png, "url")) &&
   identical(bubble_png_size(png), c(width = 800, height = 600)),
   "a 3000-row spec is POSTed to /chart.png", attr(png, "url"))

svg <- bubble_svg(specs$awkward_values, base)
ok(grepl("&#171;|\u00ab", svg) && grepl("&lt;/text&gt; &amp; co", svg, fixed = TRUE),
   "awkward strings reach the SVG title escaped")


# --- bubble_from_ggplot: ggplot2's breaks and legends in our SVG ------------

svg_texts <- function(svg) {
    m <- regmatches(svg, gregexpr("<text[^>]*>[^<]*</text>", svg))[[1]]
    attr_of <- function(a) {
        v <- regmatches(m, regexec(sprintf(" %s=\"([^\"]*)\"", a), m))
        vapply(v, function(x) if (length(x) > 1) x[2] else NA_character_, "")
    }
    unesc <- function(s) {
        s <- gsub("&lt;", "<", s, fixed = TRUE)
        s <- gsub("&gt;", ">", s, fixed = TRUE)
        s <- gsub("&quot;", "\"", s, fixed = TRUE)
        s <- gsub("&#39;", "'", s, fixed = TRUE)
        gsub("&amp;", "&", s, fixed = TRUE)
    }
    data.frame(x = as.numeric(attr_of("x")), y = as.numeric(attr_of("y")),
               size = as.numeric(attr_of("font-size")),
               anchor = ifelse(is.na(attr_of("text-anchor")), "start", attr_of("text-anchor")),
               rotated = !is.na(attr_of("transform")),
               text = unesc(sub("^<text[^>]*>", "", sub("</text>$", "", m))),
               stringsAsFactors = FALSE)
}

# a sequence that is `want` repeated once per panel
repeats <- function(got, want) {
    length(want) > 0 && length(got) %% length(want) == 0 && length(got) > 0 &&
        identical(got, rep(want, length(got) / length(want)))
}

# ggplot2's tick labels of one panel, in the order of their position
gg_ticks <- function(pp, a) {
    v <- pp[[a]]
    br <- v$get_breaks()
    lab <- v$get_labels()
    keep <- !is.na(br) & !is.na(lab)
    as.character(lab[keep][order(br[keep])])
}

gg_legend <- function(b, aes) {
    sc <- b$plot$scales$get_scales(aes)
    if (is.null(sc)) return(NULL)
    title <- if (!bubble_is_waiver(sc$name)) sc$name else b$plot$labels[[aes]]
    if (inherits(sc, "ScaleDiscrete")) {
        return(list(title = title, labels = as.character(sc$get_labels()), bar = FALSE))
    }
    br <- sc$get_breaks()
    lab <- sc$get_labels(br)
    keep <- !is.na(br)
    list(title = title, labels = as.character(lab[keep][order(br[keep])]),
         bar = aes %in% c("colour", "fill"))
}

for (n in names(plots)) {
    p <- plots[[n]]
    b <- ggplot_build(p)
    spec <- bubble_from_ggplot(p)
    svg <- tryCatch(bubble_svg(spec, base), error = function(e) e)
    if (inherits(svg, "error")) {
        ok(FALSE, sprintf("%s: SVG", n), conditionMessage(svg))
        next
    }
    t <- svg_texts(svg)
    base_size <- p$theme$text$size %||% 11
    tick <- round(0.8 * base_size * 96 / 72, 2)
    big <- round(base_size * 96 / 72, 2)
    pp <- b$layout$panel_params[[1]]

    xt <- t[t$anchor == "middle" & !t$rotated & abs(t$size - tick) < 0.02, ]
    xt <- xt[xt$y == max(xt$y), ]
    got <- xt$text[order(xt$x)]
    want <- gg_ticks(pp, "x")
    ok(repeats(got, want), sprintf("%s: x tick labels are ggplot2's (%s)", n,
                                   paste(want, collapse = " ")),
       c(paste("ours:   ", paste(got, collapse = " ")),
         paste("ggplot2:", paste(want, collapse = " "))))

    yt <- t[t$anchor == "end" & abs(t$size - tick) < 0.02, ]
    yt <- yt[yt$x == min(yt$x), ]
    got <- yt$text[order(-yt$y)]
    want <- gg_ticks(pp, "y")
    ok(repeats(got, want), sprintf("%s: y tick labels are ggplot2's (%s)", n,
                                   paste(want, collapse = " ")),
       c(paste("ours:   ", paste(got, collapse = " ")),
         paste("ggplot2:", paste(want, collapse = " "))))

    if (inherits(p$facet, "FacetWrap")) {
        strips <- as.character(b$layout$layout[[names(p$facet$params$facets)[1]]])
        st <- t[t$anchor == "middle" & !t$rotated & t$text %in% strips, ]
        got <- st$text[order(round(st$y), st$x)]
        same(got, strips, sprintf("%s: facet strips in ggplot2's panel order", n))
    }

    legends <- Filter(Negate(is.null), lapply(c("size", "colour", "fill"), gg_legend, b = b))
    titles <- t[t$anchor == "start" & abs(t$size - big) < 0.02 &
                t$text %in% vapply(legends, `[[`, "", "title"), ]
    for (lg in legends) {
        tt <- titles[titles$text == lg$title, ]
        if (!ok(nrow(tt) == 1, sprintf("%s: legend \"%s\" is drawn", n, lg$title),
                paste("legend titles found:", paste(titles$text, collapse = " | ")))) next
        below <- titles$y[titles$y > tt$y]
        stop_y <- if (length(below)) min(below) else Inf
        lab <- t[t$anchor == "start" & abs(t$size - tick) < 0.02 & t$x >= tt$x &
                 t$y > tt$y & t$y < stop_y, ]
        got <- lab$text[order(lab$y)]
        want <- if (lg$bar) rev(lg$labels) else lg$labels
        same(got, want, sprintf("%s: legend \"%s\" entries are ggplot2's (%s)", n,
                                lg$title, paste(lg$labels, collapse = " ")))
    }
    for (k in c("title", "subtitle", "caption")) {
        if (!is.null(b$plot$labels[[k]])) {
            ok(b$plot$labels[[k]] %in% t$text, sprintf("%s: %s drawn", n, k))
        }
    }
}

cat("1..", n_test, "\n", sep = "")
if (n_fail > 0) {
    cat("# ", n_fail, " of ", n_test, " failed\n", sep = "")
    quit(status = 1)
}
