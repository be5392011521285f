print("executor")
