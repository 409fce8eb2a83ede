# Charts in web pages: <img> tags whose src is the chart's URL on nginx.

library(ggplot2)

p <- ggplot(mtcars, aes(wt, mpg, size = hp)) + geom_point() + labs(title = "Cars")

test_that("bubble_img: an <img> whose src is the chart's URL", {
    tag <- bubble_img(p, server = "https://charts.example/chart", secret = NULL,
                      width = 600, height = 400, scale = 2)
    expect_s3_class(tag, "shiny.tag")
    expect_equal(tag$name, "img")
    expect_equal(tag$attribs$src,
                 bubble_url(bubble_from_ggplot(p, width = 600, height = 400, scale = 2),
                            "https://charts.example/chart", secret = NULL))
    expect_equal(tag$attribs[c("width", "height", "alt")],
                 list(width = 600L, height = 400L, alt = "Cars"))
    html <- as.character(tag)
    expect_match(html, '^<img src="https://charts.example/chart/[A-Za-z0-9_-]+\\.png"')
    # a spec keeps its own size; a secret signs
    s <- bubble_spec(mtcars, wt, mpg, width = 300, height = 200)
    tag <- bubble_img(s, server = "/chart", secret = "sixteen-byte-secret", format = "svg",
                      alt = "a chart")
    expect_match(tag$attribs$src, "^/chart/.*\\.svg\\?sig=[A-Za-z0-9_-]{22}$")
    expect_equal(tag$attribs[c("width", "height", "alt")],
                 list(width = 300, height = 200, alt = "a chart"))
})

test_that("the tag's URL renders through nginx, signed where the location wants it", {
    srv <- test_server()
    tag <- bubble_img(p, server = srv, secret = NULL, width = 500, height = 300, scale = 2)
    r <- http_get(tag$attribs$src)
    expect_equal(r$status, 200)
    expect_equal(r$headers[["content-type"]], "image/png")
    expect_equal(bubble_png_size(r$body), c(width = 1000, height = 600))
    sg <- test_signed()
    tag <- bubble_img(p, server = sg$server, secret = sg$secret, format = "svg")
    expect_equal(http_get(tag$attribs$src)$status, 200)
    unsigned <- bubble_img(p, server = sg$server, secret = NULL)
    expect_equal(http_get(unsigned$attribs$src)$status, 403)
})

test_that("a spec too long for a URL is embedded as a data: URI", {
    srv <- test_server()
    set.seed(2)
    big <- bubble_spec(data.frame(x = runif(3000), y = runif(3000)), x, y)
    tag <- bubble_img(big, server = srv, secret = NULL, width = 320, height = 240)
    expect_match(tag$attribs$src, "^data:image/png;base64,")
    png <- openssl::base64_decode(sub("^data:image/png;base64,", "", tag$attribs$src))
    expect_equal(bubble_png_size(png), c(width = 320, height = 240))
})

test_that("knitr: a chunk's bubble_img() is an <img> tag in the document", {
    skip_if_not_installed("knitr")
    srv <- test_server()
    dir <- tempfile()
    dir.create(dir)
    rmd <- file.path(dir, "doc.Rmd")
    writeLines(c("---", "title: test", "output: html_document", "---", "",
                 "```{r, echo = FALSE}",
                 "library(ggplot2)",
                 sprintf("options(ngxbubble.server = \"%s\", ngxbubble.secret = NULL)", srv),
                 "p <- ggplot(mtcars, aes(wt, mpg, colour = factor(cyl))) + geom_point()",
                 "ngxbubble::bubble_img(p, width = 480, height = 320)",
                 "```"), rmd)
    md <- knitr::knit(rmd, output = file.path(dir, "doc.md"), quiet = TRUE,
                      envir = new.env())
    out <- paste(readLines(md, warn = FALSE), collapse = "\n")
    src <- regmatches(out, regexpr('<img src="[^"]+"', out))
    expect_length(src, 1)
    url <- sub('^<img src="([^"]+)"$', "\\1", src)
    expect_true(startsWith(url, paste0(srv, "/")))
    r <- http_get(url)
    expect_equal(r$status, 200)
    expect_equal(bubble_png_size(r$body), c(width = 480, height = 320))
    # no image was drawn or written by R
    expect_length(list.files(dir, pattern = "\\.(png|svg|pdf)$", recursive = TRUE), 0)
})

test_that("bubbleOutput: a sized element with the output binding", {
    skip_if_not_installed("shiny")
    out <- bubbleOutput("chart", height = "300px")
    expect_match(as.character(out), 'id="chart" class="ngxbubble-output shiny-report-size"',
                 fixed = TRUE)
    expect_match(as.character(out), "height: 300px;", fixed = TRUE)
    deps <- htmltools::findDependencies(out)
    expect_equal(deps[[1]]$name, "ngxbubble")
    expect_true(nzchar(system.file(deps[[1]]$src$file, deps[[1]]$script,
                                   package = deps[[1]]$package)))
})

test_that("renderBubble: the output's size and pixel ratio, a URL that renders", {
    skip_if_not_installed("shiny")
    srv <- test_server()
    suppressPackageStartupMessages(shiny::testServer(function(input, output, session) {
        output$chart <- renderBubble({
            if (identical(input$n, 0)) NULL else p
        }, server = srv, secret = NULL)
        output$spec <- renderBubble(bubble_spec(mtcars, wt, mpg), server = srv,
                                    secret = NULL, format = "svg", alt = "cars")
    }, {
        session$setInputs(n = 1)
        v <- output$chart
        # MockShinySession's output elements are 600 x 400 at pixel ratio 1
        expect_equal(v[c("width", "height", "alt")], list(width = 600L, height = 400L,
                                                           alt = "Cars"))
        r <- http_get(v$src)
        expect_equal(r$status, 200)
        expect_equal(bubble_png_size(r$body), c(width = 600, height = 400))
        v <- output$spec
        expect_match(v$src, "\\.svg$")
        expect_equal(http_get(v$src)$status, 200)
        session$setInputs(n = 0)
        expect_null(output$chart)
    }))
})
