app_name = "lockers"
urlpatterns: list = []
