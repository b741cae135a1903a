app_name = "vending"
urlpatterns: list = []
