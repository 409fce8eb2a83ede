# Images from the server: values that behave like R's, metadata, errors.

spec <- bubble_spec(mtcars, wt, mpg, size = hp, color = factor(cyl), title = "cars",
                    width = 640, height = 400)

test_that("bubble_png returns a plain raw vector that writeBin writes", {
    srv <- test_server()
    png <- bubble_png(spec, srv)
    expect_identical(class(png), "raw")
    expect_null(attributes(png))
    f <- tempfile(fileext = ".png")
    writeBin(png, f)
    expect_identical(readBin(f, "raw", file.size(f)), png)
    expect_equal(bubble_png_size(png), c(width = 640, height = 400))
    expect_equal(dim(png::readPNG(png)), c(400, 640, 3))
})

test_that("file = writes the image and returns it invisibly", {
    srv <- test_server()
    f <- tempfile(fileext = ".pdf")
    expect_invisible(pdf <- bubble_pdf(spec, srv, file = f))
    expect_identical(class(pdf), "raw")
    expect_identical(readBin(f, "raw", file.size(f)), pdf)
    expect_identical(rawToChar(pdf[1:5]), "%PDF-")
})

test_that("bubble_svg returns a UTF-8 string", {
    srv <- test_server()
    s <- bubble_spec(data.frame(x = 1:3, y = 1:3), x, y, title = "\u4e2d\u6587 & <co>")
    svg <- bubble_svg(s, srv)
    expect_type(svg, "character")
    expect_length(svg, 1)
    expect_identical(Encoding(svg), "UTF-8")
    expect_match(svg, "\u4e2d\u6587 &amp; &lt;co&gt;", fixed = TRUE)
    expect_equal(svg_size(svg), c(width = 800, height = 600))
})

test_that("full = TRUE: URL, method, ETag, dropped rows", {
    srv <- test_server()
    df <- data.frame(x = c(1, 2, NA, 4), y = c(1, 2, 3, NA))
    r <- bubble_png(bubble_spec(df, x, y), srv, full = TRUE)
    expect_s3_class(r, "bubble_response")
    expect_identical(class(r$body), "raw")
    expect_equal(r$method, "GET")
    expect_equal(r$status, 200L)
    expect_equal(r$content_type, "image/png")
    expect_match(r$etag, '^"[0-9a-f]+"$')
    expect_equal(r$dropped_rows, 2L)
    expect_identical(r$url, bubble_url(bubble_spec(df, x, y), srv, secret = NULL))
    expect_output(print(r), "GET 200, image/png")
    # the ETag names the chart: the same for the same spec
    expect_identical(bubble_svg(bubble_spec(df, x, y), srv, full = TRUE)$etag,
                     bubble_svg(bubble_spec(df, x, y), srv, method = "post", full = TRUE)$etag)
})

test_that("a spec too long for a URL is POSTed", {
    srv <- test_server()
    set.seed(1)
    big <- bubble_spec(data.frame(x = runif(3000), y = runif(3000)), x, y)
    expect_gt(nchar(bubble_url(big, srv, secret = NULL)), 8000)
    r <- bubble_png(big, srv, full = TRUE)
    expect_equal(r$method, "POST")
    expect_equal(r$url, paste0(srv, ".png"))
    expect_equal(bubble_png_size(r$body), c(width = 800, height = 600))
    r <- bubble_png(spec, srv, method = "post", full = TRUE)
    expect_equal(r$method, "POST")
})

test_that("a ggplot is drawn at 800 x 600", {
    srv <- test_server()
    p <- ggplot2::ggplot(mtcars, ggplot2::aes(wt, mpg)) + ggplot2::geom_point()
    expect_equal(bubble_png_size(bubble_png(p, srv)), c(width = 800, height = 600))
})

test_that("a spec the server refuses is a bubble_error naming the field", {
    srv <- test_server()
    bad <- bubble_spec(data.frame(a = c("x", "y"), b = 1:2), a, b)
    e <- expect_error(bubble_svg(bad, srv), class = "bubble_error")
    expect_equal(e$status, 400)
    expect_equal(e$error, "invalid_spec")
    expect_equal(e$path, "mapping.x")
    expect_match(conditionMessage(e), "^ngx_bubble answered 400: mapping.x: .*numbers")
    e <- expect_error(bubble_png(list(width = 20000, data = list(x = 1, y = 1)), srv),
                      class = "bubble_error")
    expect_equal(e$status, 413)
})

test_that("signed locations: the secret signs GETs; none or a wrong one is 403", {
    sg <- test_signed()
    png <- bubble_png(spec, sg$server, secret = sg$secret)
    expect_equal(bubble_png_size(png), c(width = 640, height = 400))
    for (key in list(NULL, "not-the-secret-at-all")) {
        e <- expect_error(bubble_png(spec, sg$server, secret = key), class = "bubble_error")
        expect_equal(e$status, 403)
        expect_equal(e$path, "sig")
    }
    # a POST carries the signature too (for bubble_sign_post locations)
    set.seed(3)
    big <- bubble_spec(data.frame(x = runif(3000), y = runif(3000)), x, y)
    r <- bubble_png(big, sg$server, secret = sg$secret, full = TRUE)
    expect_equal(r$method, "POST")
    expect_match(r$url, "\\.png\\?sig=[A-Za-z0-9_-]{22}$")
    # a signed readable URL works too
    r <- http_get(bubble_url(spec, sg$server, secret = sg$secret, readable = TRUE, format = "svg"))
    expect_equal(r$status, 200)
})

test_that("the server and secret options are the defaults", {
    sg <- test_signed()
    old <- options(ngxbubble.server = sg$server, ngxbubble.secret = sg$secret)
    on.exit(options(old))
    expect_true(bubble_available())
    expect_equal(bubble_png_size(bubble_png(spec)), c(width = 640, height = 400))
    expect_false(bubble_available(secret = NULL))
    expect_false(bubble_available("http://127.0.0.1:9/chart", timeout = 1))
})
