# Where the tests find an ngx_bubble server, a signed location, and the
# ngx_bubble repository (for the checks against its other URL builder).
#
#   NGXBUBBLE_TEST_SERVER  a location with `bubble;`, e.g. http://127.0.0.1:8080/chart
#   NGXBUBBLE_TEST_SIGNED  a location with `bubble; bubble_url_secret SECRET;`
#   NGXBUBBLE_TEST_SECRET  SECRET
#   NGXBUBBLE_TEST_REPO    the repository's root (examples/, tools/bubble-url)

test_server <- function() {
    s <- Sys.getenv("NGXBUBBLE_TEST_SERVER")
    if (!nzchar(s)) skip("no ngx_bubble server (NGXBUBBLE_TEST_SERVER)")
    s
}

test_signed <- function() {
    s <- Sys.getenv("NGXBUBBLE_TEST_SIGNED")
    k <- Sys.getenv("NGXBUBBLE_TEST_SECRET")
    if (!nzchar(s) || !nzchar(k)) {
        skip("no signed location (NGXBUBBLE_TEST_SIGNED, NGXBUBBLE_TEST_SECRET)")
    }
    list(server = s, secret = k)
}

test_repo <- function() {
    r <- Sys.getenv("NGXBUBBLE_TEST_REPO")
    if (!nzchar(r) || !file.exists(file.path(r, "tools", "bubble-url"))) {
        skip("not in the ngx_bubble repository (NGXBUBBLE_TEST_REPO)")
    }
    r
}

# GET a URL: status, headers (lower-case names) and body.
http_get <- function(url, head = FALSE) {
    h <- curl::new_handle(nobody = head)
    r <- curl::curl_fetch_memory(url, handle = h)
    list(status = r$status_code, headers = curl::parse_headers_list(r$headers),
         body = r$content)
}

# The size of a PDF's first page in points, from its /MediaBox.
pdf_page_size <- function(pdf) {
    txt <- rawToChar(pdf[pdf != as.raw(0)])
    m <- regmatches(txt, regexpr("/MediaBox *\\[ *[-0-9. ]+\\]", txt, useBytes = TRUE))
    n <- as.numeric(strsplit(trimws(gsub("[^-0-9. ]", " ", m)), " +")[[1]])
    c(width = n[3] - n[1], height = n[4] - n[2])
}

# The width and height attributes of an SVG's root element.
svg_size <- function(svg) {
    root <- regmatches(svg, regexpr("<svg[^>]*>", svg))
    num <- function(a) as.numeric(sub(sprintf('.* %s="([0-9.]+)(px)?".*', a), "\\1", root))
    c(width = num("width"), height = num("height"))
}

# The plots the converter is tested on, and what must come out of them.
test_plots <- function() {
    gap <- data.frame(
        country = c("Japan", "Kenya", "Norway", "Brazil", "India", "Chile", "Egypt", "Peru"),
        continent = c("Asia", "Africa", "Europe", "Americas", "Asia", "Americas",
                      "Africa", "Americas"),
        gdpPercap = c(31656, 1463, 49357, 9066, 2452, 13172, 5581, 7409),
        lifeExp = c(82.6, 54.1, 80.2, 72.4, 64.7, 78.6, 71.3, 71.4),
        pop = c(127467972, 35610177, 4627926, 190010647, 1110396331, 16284741,
                80264543, 28674757))
    p <- list()
    p$gapminder_log10_minimal <-
        ggplot2::ggplot(gap, ggplot2::aes(gdpPercap, lifeExp, size = pop, colour = continent)) +
        ggplot2::geom_point(alpha = 0.7) + ggplot2::scale_x_log10() +
        ggplot2::scale_size_area(max_size = 15) +
        ggplot2::labs(title = "Life expectancy and income, 2007", subtitle = "Gapminder",
                      caption = "Data: gapminder", x = "GDP per capita",
                      y = "Life expectancy", size = "Population", colour = "Continent") +
        ggplot2::theme_minimal()
    p$mtcars_sqrt_classic <-
        ggplot2::ggplot(mtcars, ggplot2::aes(wt, mpg, size = hp, colour = qsec)) +
        ggplot2::geom_point() + ggplot2::scale_y_sqrt() + ggplot2::scale_colour_viridis_c() +
        ggplot2::labs(title = "Motor Trend cars", x = "Weight (1000 lbs)") +
        ggplot2::theme_classic()
    p$gapminder_facets_dark <-
        ggplot2::ggplot(gap, ggplot2::aes(gdpPercap, lifeExp, size = pop)) +
        ggplot2::geom_point(colour = "gold") + ggplot2::scale_x_log10() +
        ggplot2::facet_wrap(~continent, ncol = 3) +
        ggplot2::labs(title = "By continent") + ggplot2::theme_dark()
    p$iris_radius_gray <-
        ggplot2::ggplot(iris, ggplot2::aes(Sepal.Length, Petal.Length, size = Petal.Width,
                                           colour = Species)) +
        ggplot2::geom_point(alpha = 0.6) + ggplot2::scale_radius(range = c(1, 8)) +
        ggplot2::scale_colour_brewer(palette = "Dark2") +
        ggplot2::labs(title = "\u9e22\u5c3e\u82b1 (iris)", y = "\u82b1\u74e3\u957f\u5ea6") +
        ggplot2::theme_gray()
    p$labels_function_shape21 <-
        ggplot2::ggplot(mtcars, ggplot2::aes(disp, mpg, fill = factor(gear))) +
        ggplot2::geom_point(shape = 21, colour = "grey30", size = 4) +
        ggplot2::scale_x_continuous(labels = function(x) paste0(x, " in\u00b3")) +
        ggplot2::scale_y_continuous(labels = scales::label_percent(scale = 1)) +
        ggplot2::labs(fill = "gears")
    p$mtcars_factor_reverse_text <-
        ggplot2::ggplot(cbind(mtcars, model = rownames(mtcars)), ggplot2::aes(hp, qsec)) +
        ggplot2::geom_point(ggplot2::aes(size = disp, colour = factor(cyl))) +
        ggplot2::geom_text(ggplot2::aes(label = model)) +
        ggplot2::scale_y_reverse() + ggplot2::scale_size_area() +
        ggplot2::labs(colour = "cylinders") +
        ggplot2::theme_minimal(base_size = 13) +
        ggplot2::theme(legend.position = "bottom")
    p
}
