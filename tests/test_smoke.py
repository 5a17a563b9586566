def test_world_builds(world):
    assert world.a.practice.doctors.count() == 1
    assert world.b.booking.patient == world.patient2
