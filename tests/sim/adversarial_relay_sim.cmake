# The adversarial relay simulation (issue 5): two link::Link units (real sessions, engines,
# in-memory stores), an honest channel and a hostile relay. BC_SIM_SEEDS sets the seed count
# (default 150), BC_SIM_SEED=<n> replays one.
add_executable(adversarial_relay_sim adversarial_relay_sim.cpp)
target_link_libraries(adversarial_relay_sim PRIVATE bc_options bc_test_support bc_link bc_session
                                                    bc_crypto GTest::gtest GTest::gtest_main)
set_target_properties(adversarial_relay_sim PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                                       "${CMAKE_BINARY_DIR}/tests")
gtest_discover_tests(adversarial_relay_sim DISCOVERY_TIMEOUT 60 PROPERTIES LABELS sim)
