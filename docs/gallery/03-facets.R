# title: Small multiples with facet_wrap()
# shows: bubble_from_ggplot() of facet_wrap(~ continent, ncol = 3): one panel per continent with shared scales, a log10 axis, theme_dark()
gap <- read.csv("docs/gallery/gapminder-2007.csv")
p <- ggplot(gap, aes(gdpPercap, lifeExp, size = pop)) +
  geom_point(colour = "gold", alpha = 0.8) +
  scale_x_log10() +
  scale_size_area(max_size = 12, name = "Population") +
  facet_wrap(~ continent, ncol = 3) +
  labs(title = "Life expectancy and income by continent, 2007",
       x = "GDP per capita (US$)", y = "Life expectancy (years)") +
  theme_dark()
spec <- bubble_from_ggplot(p, width = 820, height = 560)
