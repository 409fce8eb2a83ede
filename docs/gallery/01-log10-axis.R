# title: Life expectancy and income: a log10 axis
# shows: bubble_from_ggplot() of scale_x_log10(), scale_size_area(), the hue palette, labs() with title, subtitle and caption, theme_gray()
gap <- read.csv("docs/gallery/gapminder-2007.csv")
p <- ggplot(gap, aes(gdpPercap, lifeExp, size = pop, colour = continent)) +
  geom_point(alpha = 0.7) +
  scale_x_log10() +
  scale_size_area(max_size = 16, name = "Population") +
  labs(title = "Life expectancy and income, 2007",
       subtitle = "45 countries; bubble area is population",
       caption = "Data: Gapminder (approximate)",
       x = "GDP per capita (US$, log scale)", y = "Life expectancy (years)",
       colour = "Continent") +
  theme_gray()
spec <- bubble_from_ggplot(p, width = 800, height = 540)
